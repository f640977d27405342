package io.mlgateway.rentals;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code rentals} in the readiness group: DOWN until the rentals store is up, the base model is loaded and the
 * recently active users' models are warmed ({@link RentalsReadiness}); UP from then on. A database outage after
 * start does not turn it DOWN: cached users keep being served, and pulling every instance out of the balancer
 * at once would only turn a partial outage into a full one.
 */
@Component
public class RentalsHealthIndicator implements HealthIndicator {

    private final RentalsReadiness readiness;

    public RentalsHealthIndicator(RentalsReadiness readiness) {
        this.readiness = readiness;
    }

    @Override
    public Health health() {
        Health.Builder health = readiness.isReady() ? Health.up() : Health.down();
        health.withDetail("phase", readiness.phase().name().toLowerCase(java.util.Locale.ROOT));
        RentalsReadiness.WarmUp warmUp = readiness.lastWarmUp();
        if (warmUp != null) {
            health.withDetail("warmUp", warmUp);
        }
        return health.build();
    }
}

package io.mlgateway.loadtests.gatling;

import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.rampUsersPerSec;
import static io.gatling.javaapi.core.OpenInjectionStep.nothingFor;

import io.gatling.javaapi.core.OpenInjectionStep;
import java.time.Duration;

/**
 * What every simulation reads from system properties ({@code -Dname=value}); the defaults are the customer's promise
 * against a gateway started by {@code deploy/local/run.sh}. load-tests/README.md lists them.
 *
 * @param baseUrl   the gateway ({@code baseUrl}, default {@code http://localhost:8080})
 * @param apiKey    sent as {@code x-api-key} ({@code apiKey}, default the local profile's {@code local-dev-key})
 * @param rate      requests per second, open model: arrivals do not wait for answers ({@code rate}, default 500)
 * @param duration  how long the rate is held ({@code duration} in seconds, default 60)
 * @param users     distinct rentals users ({@code users}; default per simulation)
 * @param p99Millis the bound on the 99th percentile response time ({@code p99Ms}, default 25)
 * @param warmup    a ramp up to the rate before {@code duration}, under request names starting "warm-up: ", left
 *                  out of the response-time bound ({@code warmupSeconds}, default 10; 0 for none): the first
 *                  seconds measure Gatling's own JIT and connection set-up (p99 of 120-370 ms per second here)
 *                  and a just-started gateway's, not the gateway's service. Failures in it still fail the run.
 */
record LoadSettings(String baseUrl, String apiKey, double rate, Duration duration, int users, int p99Millis,
        Duration warmup) {

    static final String WARM_UP = "warm-up: ";

    static LoadSettings fromSystemProperties(int defaultUsers) {
        LoadSettings settings = new LoadSettings(
                System.getProperty("baseUrl", "http://localhost:8080"),
                System.getProperty("apiKey", "local-dev-key"),
                Double.parseDouble(System.getProperty("rate", "500")),
                Duration.ofSeconds(Long.parseLong(System.getProperty("duration", "60"))),
                Integer.parseInt(System.getProperty("users", Integer.toString(defaultUsers))),
                Integer.parseInt(System.getProperty("p99Ms", "25")),
                Duration.ofSeconds(Long.parseLong(System.getProperty("warmupSeconds", "10"))));
        if (settings.rate <= 0 || settings.duration.isZero() || settings.duration.isNegative() || settings.users < 1
                || settings.warmup.isNegative()) {
            throw new IllegalArgumentException("rate and duration must be > 0, warmup >= 0 and users >= 1: " + settings);
        }
        return settings;
    }

    /** The requests (warm-up included) the run is due to send when each arrival sends {@code requestsPerArrival}. */
    long expectedRequests(int requestsPerArrival) {
        double arrivals = rate / requestsPerArrival * (warmup.toSeconds() / 2.0 + duration.toSeconds());
        return (long) Math.floor(arrivals) * requestsPerArrival;
    }

    /**
     * The open-model injection: during the warm-up a ramp from 1 to {@code arrivalsPerSecond} (none if the warm-up
     * is 0), during the run a constant {@code arrivalsPerSecond}. The ramp, like a load balancer's slow start, lets
     * a just-started gateway compile its hot paths before the full rate arrives.
     */
    OpenInjectionStep[] arrivals(double arrivalsPerSecond, boolean warmUp) {
        if (!warmUp) {
            return new OpenInjectionStep[] {constantUsersPerSec(arrivalsPerSecond).during(duration)};
        }
        return warmup.isZero() ? new OpenInjectionStep[] {nothingFor(Duration.ZERO)}
                : new OpenInjectionStep[] {rampUsersPerSec(1).to(arrivalsPerSecond).during(warmup)};
    }

    /** Printed at the start of a run, so a report can be traced to its settings. */
    String describe() {
        return "baseUrl=" + baseUrl + " rate=" + rate + "/s duration=" + duration.toSeconds() + "s users=" + users
                + " p99Ms=" + p99Millis + " warmupSeconds=" + warmup.toSeconds();
    }
}

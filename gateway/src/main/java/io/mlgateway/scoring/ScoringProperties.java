package io.mlgateway.scoring;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Sizing of the scoring pool.
 *
 * @param threads           scoring threads; 0 means one per available core (native scoring is CPU-bound, more
 *                          threads than cores only adds context switches)
 * @param queueCapacity     tasks waiting for a thread; beyond it requests are shed with 503 (0 = no waiting at all)
 * @param retryAfterSeconds value of the Retry-After header on 503
 */
@ConfigurationProperties("gateway.scoring")
public record ScoringProperties(int threads, int queueCapacity, long retryAfterSeconds) {

    public ScoringProperties {
        if (threads < 0 || queueCapacity < 0 || retryAfterSeconds < 0) {
            throw new IllegalArgumentException("gateway.scoring values must not be negative");
        }
        if (retryAfterSeconds == 0) {
            retryAfterSeconds = 1;
        }
    }

    public int effectiveThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}

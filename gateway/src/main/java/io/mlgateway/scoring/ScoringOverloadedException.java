package io.mlgateway.scoring;

/** The scoring queue is full: the caller should answer 503 with Retry-After instead of queueing more work. */
public class ScoringOverloadedException extends RuntimeException {

    private final long retryAfterSeconds;

    public ScoringOverloadedException(long retryAfterSeconds) {
        super("scoring queue full", null, false, false);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}

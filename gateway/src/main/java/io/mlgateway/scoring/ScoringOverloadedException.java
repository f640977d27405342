package io.mlgateway.scoring;

import io.mlgateway.errors.UnavailableException;

/** The scoring queue is full: answered 503 with Retry-After instead of queueing more work. */
public class ScoringOverloadedException extends UnavailableException {

    public ScoringOverloadedException(long retryAfterSeconds) {
        super("scoring capacity exhausted, retry later", retryAfterSeconds);
    }
}

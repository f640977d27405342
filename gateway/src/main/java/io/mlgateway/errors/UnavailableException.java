package io.mlgateway.errors;

/**
 * A dependency is down or saturated: answered 503 with Retry-After; the message goes to the client. Subclasses
 * that know when to come back say so ({@link #retryAfterSeconds()}); the others get the configured default.
 */
public class UnavailableException extends RuntimeException {

    private final long retryAfterSeconds;

    public UnavailableException(String message) {
        this(message, -1);
    }

    protected UnavailableException(String message, long retryAfterSeconds) {
        super(message, null, false, false);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** Seconds the client should wait, or -1 for the configured default. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}

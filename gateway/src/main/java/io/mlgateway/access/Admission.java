package io.mlgateway.access;

import io.mlgateway.errors.ApiException;
import io.mlgateway.errors.RateLimitedException;
import org.springframework.http.HttpStatus;

/**
 * What {@link ApiKeys#admit} decided about one request's key.
 *
 * @param outcome       the decision
 * @param keyName       the matched key's name (never the key), null unless the key was recognised
 * @param retryAfterNanos for {@link Outcome#LIMITED}: how long until the key may send again
 * @param rateLimit     for {@link Outcome#LIMITED}: the key's limit, requests per second
 */
public record Admission(Outcome outcome, String keyName, long retryAfterNanos, int rateLimit) {

    public enum Outcome {
        /** A configured key of the role, within its rate. */
        ADMITTED,
        /** No key presented. */
        MISSING,
        /** A key that is not one of the role's. */
        INVALID,
        /** A configured key over its rate limit. */
        LIMITED,
        /** The role has no keys at all (model operations without admin keys). */
        DISABLED
    }

    static final Admission MISSING = new Admission(Outcome.MISSING, null, 0, 0);
    static final Admission INVALID = new Admission(Outcome.INVALID, null, 0, 0);
    static final Admission DISABLED = new Admission(Outcome.DISABLED, null, 0, 0);

    public boolean admitted() {
        return outcome == Outcome.ADMITTED;
    }

    /** Whole seconds to wait, at least 1: what a Retry-After header can say. */
    public long retryAfterSeconds() {
        return Math.max(1, (retryAfterNanos + 999_999_999L) / 1_000_000_000L);
    }

    /**
     * The failure a refused admission answers, naming {@code header} (the HTTP header or gRPC metadata key the key
     * came in): one mapping for every transport.
     */
    public RuntimeException refusal(String header) {
        return switch (outcome) {
            case MISSING -> new ApiException(HttpStatus.UNAUTHORIZED, "missing " + header + " header", header);
            case INVALID -> new ApiException(HttpStatus.UNAUTHORIZED, "invalid " + header, header);
            case DISABLED -> new ApiException(HttpStatus.FORBIDDEN,
                    "model operations are disabled: no admin keys configured (GATEWAY_ADMIN_KEYS)", null);
            case LIMITED -> new RateLimitedException("rate limit of key '" + keyName + "' exceeded: " + rateLimit
                    + " requests/s", retryAfterSeconds());
            case ADMITTED -> throw new IllegalArgumentException("an admitted request is not refused");
        };
    }
}

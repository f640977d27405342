package io.mlgateway.api;

/** A dependency is down or saturated: answered 503 with Retry-After; the message goes to the client. */
public class UnavailableException extends RuntimeException {

    public UnavailableException(String message) {
        super(message, null, false, false);
    }
}

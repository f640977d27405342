package io.mlgateway.shared.modelstore;

/** A model was stored on top of a head that has moved meanwhile: the writer was stale and nothing changed. */
public class StaleModelException extends RuntimeException {

    public StaleModelException(String userId, Long expectedHead) {
        super("head of '" + userId + "' is no longer " + expectedHead + "; not replacing a newer model");
    }
}

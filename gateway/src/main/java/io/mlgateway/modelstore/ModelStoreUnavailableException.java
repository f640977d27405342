package io.mlgateway.modelstore;

import io.mlgateway.errors.UnavailableException;

/** The registry cannot be reached (or holds no base model yet): the request is answered 503, not 500. */
public class ModelStoreUnavailableException extends UnavailableException {

    public ModelStoreUnavailableException(String message) {
        super(message);
    }
}

package io.mlgateway.api;

import reactor.core.publisher.Mono;

/**
 * What a route does, whichever transport received the request: read what it needs from the request, call its
 * capability's service, and answer the object to send as JSON (status 200), or fail with an
 * {@link io.mlgateway.errors} exception that {@link ApiErrorHandler} turns into the error envelope.
 */
@FunctionalInterface
public interface ApiHandler {

    Mono<?> handle(ApiRequest request);
}

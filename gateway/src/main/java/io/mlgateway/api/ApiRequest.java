package io.mlgateway.api;

import java.util.Optional;
import reactor.core.publisher.Mono;

/** A request as handlers see it, the same on WebFlux and on the direct Reactor Netty routes. */
public interface ApiRequest {

    /** A variable of the route's path template, percent-decoded; null if the template has no such variable. */
    String pathVariable(String name);

    /** The first value of a query parameter, percent-decoded. */
    Optional<String> queryParam(String name);

    /** The first value of a request header, if present. */
    Optional<String> header(String name);

    /** The body, read with the size cap of {@link RequestBodies}; a 400 if it is empty. */
    Mono<byte[]> body();
}

package io.mlgateway.api;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpMethod;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.RequestPredicate;
import org.springframework.web.reactive.function.server.RequestPredicates;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.server.MethodNotAllowedException;
import org.springframework.web.server.NotAcceptableStatusException;
import org.springframework.web.server.UnsupportedMediaTypeStatusException;
import reactor.core.publisher.Mono;

/**
 * The API on WebFlux, derived from {@link ApiRoutes}: every route, then for each path the 405 naming the methods it
 * does take. Within a route, the checks run in the order annotated mappings apply them: 415 for a body that is not
 * JSON, then 406 for an Accept header that excludes JSON.
 */
@Configuration(proxyBeanMethods = false)
class WebFluxRoutes {

    private static final List<MediaType> JSON = List.of(MediaType.APPLICATION_JSON);

    @Bean
    RouterFunction<ServerResponse> apiRouter(ApiRoutes routes, RequestBodies bodies) {
        RouterFunctions.Builder router = RouterFunctions.route();
        for (Route route : routes.all()) {
            router.route(method(route.method()).and(RequestPredicates.path(route.path())),
                    request -> serve(route, request, bodies));
        }
        for (Map.Entry<String, Set<HttpMethod>> path : routes.methodsByPath().entrySet()) {
            router.route(RequestPredicates.path(path.getKey()),
                    request -> Mono.error(new MethodNotAllowedException(request.method(), path.getValue())));
        }
        return router.build();
    }

    /** The route's method; a GET route answers HEAD too (headers only), as annotated mappings do. */
    private static RequestPredicate method(HttpMethod method) {
        RequestPredicate predicate = RequestPredicates.method(method);
        return method == HttpMethod.GET ? predicate.or(RequestPredicates.method(HttpMethod.HEAD)) : predicate;
    }

    private static Mono<ServerResponse> serve(Route route, ServerRequest request, RequestBodies bodies) {
        if (route.method() == HttpMethod.POST && !isJson(request)) {
            return Mono.error(new UnsupportedMediaTypeStatusException(
                    request.headers().contentType().orElse(null), JSON, route.method()));
        }
        if (!acceptsJson(request)) {
            return Mono.error(new NotAcceptableStatusException(JSON));
        }
        return Mono.defer(() -> route.handler().handle(new Request(request, bodies)))
                .switchIfEmpty(Mono.error(() -> new IllegalStateException("no answer for " + route)))
                .flatMap(answer -> ServerResponse.ok().contentType(MediaType.APPLICATION_JSON).bodyValue(answer));
    }

    private static boolean isJson(ServerRequest request) {
        try {
            Optional<MediaType> type = request.headers().contentType();
            return type.isPresent() && MediaType.APPLICATION_JSON.includes(type.get());
        } catch (InvalidMediaTypeException e) {
            return false;
        }
    }

    private static boolean acceptsJson(ServerRequest request) {
        try {
            List<MediaType> accepted = request.headers().accept();
            return accepted.isEmpty() || accepted.stream().anyMatch(MediaType.APPLICATION_JSON::isCompatibleWith);
        } catch (InvalidMediaTypeException e) {
            return false;
        }
    }

    /** {@link ApiRequest} over a WebFlux request. */
    private record Request(ServerRequest request, RequestBodies bodies) implements ApiRequest {

        @Override
        public String pathVariable(String name) {
            return request.pathVariables().get(name);
        }

        @Override
        public Optional<String> queryParam(String name) {
            return request.queryParam(name);
        }

        @Override
        public Optional<String> header(String name) {
            return Optional.ofNullable(request.headers().firstHeader(name));
        }

        @Override
        public Mono<byte[]> body() {
            return bodies.read(request.exchange().getRequest());
        }
    }
}

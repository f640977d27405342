package io.mlgateway.api;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.mlgateway.access.Admission;
import io.mlgateway.access.ApiKeys;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.reactor.netty.NettyRouteProvider;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;
import tools.jackson.databind.json.JsonMapper;

/**
 * The single-row scoring endpoints served straight on Reactor Netty, ahead of the WebFlux pipeline.
 *
 * <p>Why: on this class of machine the WebFlux request pipeline alone (exchange, observation, filters, handler
 * mapping, argument resolution, encoders) caps a constant-answer endpoint at about a quarter of what bare Reactor
 * Netty serves (docs/BENCHMARKS.md), below the throughput these endpoints must reach. Here the same controller
 * logic, parser, scorer, error envelope and API keys run with none of that machinery.
 *
 * <p>The routes are those of {@link ApiRoutes} marked {@link Route#servedDirect()}, with the same handlers. Only
 * requests that are plainly well-formed at the HTTP level take them: the route's method, a JSON content type, an
 * acceptable Accept header and a valid API key (its rate limit is counted here, once). Everything else (401, 404, 405, 406, 415, other endpoints) falls
 * through to WebFlux and is answered there.
 *
 * <p>On by default; {@code gateway.api.direct-routes=false} sends everything through WebFlux.
 * Requests are timed as {@code http.server.requests} with the same tags as WebFlux's, so dashboards see one metric.
 */
@Component
@ConditionalOnProperty(name = "gateway.api.direct-routes", havingValue = "true", matchIfMissing = true)
public class DirectRoutes implements NettyRouteProvider {

    private static final String JSON = "application/json";

    private final List<Route> routes;
    private final ApiKeys keys;
    private final RequestBodies bodies;
    private final ApiErrorHandler errors;
    private final JsonMapper json;
    private final MeterRegistry meters;
    private final AccessLog accessLog;
    private final ConcurrentHashMap<MeterKey, Timer> timers = new ConcurrentHashMap<>();

    public DirectRoutes(ApiRoutes api, ApiKeys keys, RequestBodies bodies, ApiErrorHandler errors,
            JsonMapper json, MeterRegistry meters, AccessLog accessLog) {
        this.routes = api.direct();
        this.keys = keys;
        this.bodies = bodies;
        this.errors = errors;
        this.json = json;
        this.meters = meters;
        this.accessLog = accessLog;
    }

    @Override
    public HttpServerRoutes apply(HttpServerRoutes httpRoutes) {
        for (Route route : routes) {
            httpRoutes = httpRoutes.route(request -> takes(request, route), (req, res) -> serve(route, req, res));
        }
        return httpRoutes;
    }

    private boolean takes(HttpServerRequest request, Route route) {
        return request.method().name().equals(route.method().name())
                && route.matchesRaw(path(request))
                && isJson(request.requestHeaders().get(HttpHeaderNames.CONTENT_TYPE))
                && acceptsJson(request.requestHeaders().get(HttpHeaderNames.ACCEPT))
                && keys.recognises(request.requestHeaders().get(ApiKeyFilter.HEADER), ApiKeys.Role.CLIENT);
    }

    private Mono<Void> serve(Route route, HttpServerRequest req, HttpServerResponse res) {
        long started = System.nanoTime();
        String method = route.method().name();
        String path = path(req);
        String requestId = AccessLog.requestId(req.requestHeaders().get(AccessLog.HEADER));
        res.header(AccessLog.HEADER, requestId);
        Request request = new Request(route.variablesRaw(path), req.uri(), req.requestHeaders(),
                bodies.read(req.receive(), contentLength(req)));
        Admission admission = keys.admit(req.requestHeaders().get(ApiKeyFilter.HEADER), ApiKeys.Role.CLIENT);
        return Mono.defer(() -> admission.admitted() ? route.handler().handle(request)
                        : Mono.error(admission.refusal(ApiKeyFilter.HEADER)))
                .switchIfEmpty(Mono.error(() -> new IllegalStateException("no answer for " + route)))
                .map(answer -> new Answer(HttpStatus.OK.value(), null, json.writeValueAsBytes(answer), null))
                // Every failure of the request becomes its error envelope; a failure to send (client gone) does not.
                .onErrorResume(error -> {
                    ApiErrorHandler.Reply reply = errors.reply(error, method, path, requestId);
                    return Mono.just(new Answer(reply.status(), reply, reply.body(), error));
                })
                .flatMap(answer -> send(res, answer)
                        .doOnSuccess(v -> {
                            record(route, answer.status(), answer.error(), started);
                            accessLog.record(method, route.path(), answer.status(), System.nanoTime() - started,
                                    requestId);
                        }));
    }

    private static Mono<Void> send(HttpServerResponse res, Answer answer) {
        res.status(HttpResponseStatus.valueOf(answer.status()))
                .header(HttpHeaderNames.CONTENT_TYPE, JSON)
                .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(answer.body().length));
        if (answer.reply() != null) {
            answer.reply().headers().forEach((name, values) -> res.header(name, String.join(",", values)));
        }
        return res.send(Mono.just(Unpooled.wrappedBuffer(answer.body()))).then();
    }

    private void record(Route route, int status, Throwable error, long started) {
        String exception = error == null ? "none" : error.getClass().getSimpleName();
        Timer timer = timers.computeIfAbsent(new MeterKey(route, status, exception), k -> Timer
                .builder("http.server.requests")
                .tag("method", k.route().method().name())
                .tag("uri", k.route().path())
                .tag("status", Integer.toString(k.status()))
                .tag("outcome", outcome(k.status()))
                .tag("exception", k.exception())
                .tag("error", k.exception())
                .register(meters));
        timer.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
    }

    private static String outcome(int status) {
        return status < 300 ? "SUCCESS" : status < 400 ? "REDIRECTION" : status < 500 ? "CLIENT_ERROR" : "SERVER_ERROR";
    }

    private static String path(HttpServerRequest request) {
        String uri = request.uri();
        int query = uri.indexOf('?');
        return query < 0 ? uri : uri.substring(0, query);
    }

    private static long contentLength(HttpServerRequest request) {
        String value = request.requestHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
        try {
            return value == null ? -1 : Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** {@code application/json}, with parameters (charset) or not; what the WebFlux routes accept. */
    static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        int params = contentType.indexOf(';');
        String type = (params < 0 ? contentType : contentType.substring(0, params)).trim();
        return type.equalsIgnoreCase(JSON);
    }

    /** No Accept header, or one that admits JSON; anything else goes to WebFlux for its 406. */
    static boolean acceptsJson(String accept) {
        if (accept == null || accept.isBlank()) {
            return true;
        }
        for (String range : accept.split(",")) {
            int params = range.indexOf(';');
            String type = (params < 0 ? range : range.substring(0, params)).trim().toLowerCase(Locale.ROOT);
            if (type.equals(JSON) || type.equals("application/*") || type.equals("*/*")) {
                return true;
            }
        }
        return false;
    }

    /** {@link ApiRequest} over a request read straight from Reactor Netty. */
    private record Request(Map<String, String> variables, String uri, HttpHeaders headers, Mono<byte[]> body)
            implements ApiRequest {

        @Override
        public String pathVariable(String name) {
            return variables.get(name);
        }

        @Override
        public Optional<String> queryParam(String name) {
            List<String> values = new QueryStringDecoder(uri).parameters().get(name);
            return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
        }

        @Override
        public Optional<String> header(String name) {
            return Optional.ofNullable(headers.get(name));
        }
    }

    private record MeterKey(Route route, int status, String exception) {
    }

    /** What goes back: the status, the error reply's extra headers (if any), the body, and the failure (if any). */
    private record Answer(int status, ApiErrorHandler.Reply reply, byte[] body, Throwable error) {
    }
}

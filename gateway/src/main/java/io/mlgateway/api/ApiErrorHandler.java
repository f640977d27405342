package io.mlgateway.api;

import io.mlgateway.errors.ApiException;
import io.mlgateway.errors.RateLimitedException;
import io.mlgateway.errors.UnavailableException;
import io.mlgateway.scoring.ScoringProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.annotation.Order;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebExceptionHandler;
import reactor.core.publisher.Mono;
import reactor.netty.channel.AbortedException;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns every failure on the API port into the error envelope ({@link ApiError}; under {@code /v2}, the Open
 * Inference Protocol's {@code {"error": …}}): client errors with their message and field, overload as
 * 503 + Retry-After, a key over its rate as 429 + Retry-After, anything unexpected as a bare 500 whose details stay
 * in the log. It runs before Spring Boot's default handler (order -1) so no whitelabel page or stack trace ever
 * reaches a client.
 */
@Component
@Order(-2)
public class ApiErrorHandler implements WebExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ApiErrorHandler.class);

    private final JsonMapper json;
    private final long retryAfterSeconds;

    public ApiErrorHandler(JsonMapper json, ScoringProperties scoring) {
        this.json = json;
        this.retryAfterSeconds = scoring.retryAfterSeconds();
    }

    @Override
    public Mono<Void> handle(ServerWebExchange exchange, Throwable error) {
        ServerHttpResponse response = exchange.getResponse();
        if (response.isCommitted()) {
            return Mono.error(error);
        }
        Reply reply = reply(error, exchange.getRequest().getMethod().name(), exchange.getRequest().getPath().value(),
                exchange.getAttribute(AccessLog.ATTRIBUTE));
        response.setStatusCode(HttpStatusCode.valueOf(reply.status()));
        response.getHeaders().putAll(reply.headers());
        response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
        return response.writeWith(Mono.just(response.bufferFactory().wrap(reply.body())));
    }

    /** The status, extra headers and envelope for {@code error}: one mapping for WebFlux and the direct routes. */
    public Reply reply(Throwable error, String method, String path, String requestId) {
        HttpStatusCode status;
        ApiError body;
        HttpHeaders headers = new HttpHeaders();
        if (error instanceof ApiException api) {
            status = api.status();
            body = ApiError.of(api.getMessage(), api.field());
        } else if (error instanceof UnavailableException unavailable) {
            status = HttpStatus.SERVICE_UNAVAILABLE;
            body = ApiError.of(unavailable.getMessage(), null);
            long retryAfter = unavailable.retryAfterSeconds() >= 0 ? unavailable.retryAfterSeconds() : retryAfterSeconds;
            headers.set(HttpHeaders.RETRY_AFTER, Long.toString(retryAfter));
            // Debug only: under overload or an outage this fires per request; the 503s are counted in
            // http_server_requests and the cause is logged once by the component that saw it.
            log.atDebug().addKeyValue("request_id", requestId)
                    .log("503 on {} {}: {}", method, path, unavailable.getMessage());
        } else if (error instanceof RateLimitedException limited) {
            status = HttpStatus.TOO_MANY_REQUESTS;
            body = ApiError.of(limited.getMessage(), null);
            headers.set(HttpHeaders.RETRY_AFTER, Long.toString(limited.retryAfterSeconds()));
        } else if (error instanceof AbortedException) {
            // The client went away mid-request (or was cut off by a body timeout): nobody reads this answer, and a
            // flood of such clients must not flood the error log.
            status = HttpStatus.BAD_REQUEST;
            body = ApiError.of("request aborted", null);
            log.atDebug().addKeyValue("request_id", requestId).log("request aborted on {} {}", method, path);
        } else if (error instanceof DataBufferLimitException) {
            status = HttpStatus.CONTENT_TOO_LARGE;
            body = ApiError.of("request body too large", null);
        } else if (error instanceof ResponseStatusException rse) {
            status = rse.getStatusCode();
            body = ApiError.of(messageFor(rse), null);
            headers.putAll(rse.getHeaders());
        } else {
            status = HttpStatus.INTERNAL_SERVER_ERROR;
            body = ApiError.of("internal error", null);
            log.atError().addKeyValue("request_id", requestId).setCause(error)
                    .log("unhandled error on {} {}", method, path);
        }
        Object envelope = ApiRoutes.isOip(path) ? new ProtocolError(body.message()) : body;
        return new Reply(status.value(), headers, json.writeValueAsBytes(envelope));
    }

    /** The Open Inference Protocol's error body: the message only, the field named in it. */
    record ProtocolError(String error) {
    }

    /** An error answer: status, headers beyond Content-Type, and the JSON envelope. */
    public record Reply(int status, HttpHeaders headers, byte[] body) {
    }

    /** Spring's reasons are fine for clients; its exception messages embed internals, so map by status. */
    private static String messageFor(ResponseStatusException rse) {
        int code = rse.getStatusCode().value();
        return switch (code) {
            case 404 -> "not found";
            case 405 -> "method not allowed";
            case 406 -> "not acceptable: this API answers application/json";
            case 413 -> "request body too large";
            case 415 -> "unsupported content type: send application/json";
            case 400 -> rse.getReason() != null ? rse.getReason() : "bad request";
            default -> rse.getReason() != null ? rse.getReason() : HttpStatus.valueOf(code).getReasonPhrase();
        };
    }
}

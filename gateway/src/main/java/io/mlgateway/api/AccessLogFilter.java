package io.mlgateway.api;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatusCode;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.reactive.HandlerMapping;
import reactor.core.publisher.Mono;

/**
 * Request id and access log for everything WebFlux answers (the direct routes do the same in
 * {@link DirectRoutes}). First of all filters, so a 401 carries an id too. The line is written when the response
 * is committed: error answers get their status from {@link ApiErrorHandler}, which runs after the filters.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class AccessLogFilter implements WebFilter {

    private final AccessLog accessLog;

    public AccessLogFilter(AccessLog accessLog) {
        this.accessLog = accessLog;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        long started = System.nanoTime();
        String requestId = AccessLog.requestId(exchange.getRequest().getHeaders().getFirst(AccessLog.HEADER));
        exchange.getAttributes().put(AccessLog.ATTRIBUTE, requestId);
        exchange.getResponse().getHeaders().set(AccessLog.HEADER, requestId);
        exchange.getResponse().beforeCommit(() -> Mono.fromRunnable(() -> {
            HttpStatusCode status = exchange.getResponse().getStatusCode();
            accessLog.record(exchange.getRequest().getMethod().name(), uri(exchange),
                    status == null ? 200 : status.value(), System.nanoTime() - started, requestId);
        }));
        return chain.filter(exchange);
    }

    /** The matched route template (low cardinality, as in the metrics), else the raw path. */
    private static String uri(ServerWebExchange exchange) {
        Object pattern = exchange.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE);
        return pattern instanceof PathPattern p ? p.getPatternString() : exchange.getRequest().getPath().value();
    }
}

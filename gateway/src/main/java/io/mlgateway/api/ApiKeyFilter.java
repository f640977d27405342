package io.mlgateway.api;

import io.mlgateway.errors.ApiException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Guards the scoring API with the {@code x-api-key} header. Keys are compared in constant time against every
 * configured key (no early exit on the first match either), so response timing tells an attacker nothing.
 * Which key a path takes is the route table's answer ({@link ApiRoutes#access}): model operations take the separate
 * {@code x-admin-key} instead, never a client key; paths outside the API are not guarded (actuator lives on its
 * own management port).
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 10)
public class ApiKeyFilter implements WebFilter {

    public static final String HEADER = "x-api-key";
    public static final String ADMIN_HEADER = "x-admin-key";

    private final List<byte[]> keys;
    private final List<byte[]> adminKeys;

    private final ApiRoutes routes;

    public ApiKeyFilter(ApiProperties properties, ApiRoutes routes) {
        this.routes = routes;
        this.keys = properties.apiKeys().stream().map(k -> k.getBytes(StandardCharsets.UTF_8)).toList();
        this.adminKeys = properties.adminKeys().stream().map(k -> k.getBytes(StandardCharsets.UTF_8)).toList();
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String path = exchange.getRequest().getPath().pathWithinApplication().value();
        Optional<Route.Access> access = routes.access(path);
        if (access.isEmpty() || access.get() == Route.Access.PUBLIC) {
            return chain.filter(exchange);
        }
        if (access.get() == Route.Access.ADMIN) {
            return checkAdmin(exchange.getRequest().getHeaders().getFirst(ADMIN_HEADER))
                    .then(chain.filter(exchange));
        }
        String presented = exchange.getRequest().getHeaders().getFirst(HEADER);
        if (presented == null || presented.isEmpty()) {
            return Mono.error(new ApiException(HttpStatus.UNAUTHORIZED, "missing " + HEADER + " header", HEADER));
        }
        if (!matches(keys, presented.getBytes(StandardCharsets.UTF_8))) {
            return Mono.error(new ApiException(HttpStatus.UNAUTHORIZED, "invalid " + HEADER, HEADER));
        }
        return chain.filter(exchange);
    }

    private Mono<Void> checkAdmin(String presented) {
        if (adminKeys.isEmpty()) {
            return Mono.error(new ApiException(HttpStatus.FORBIDDEN,
                    "model operations are disabled: no admin keys configured (GATEWAY_ADMIN_KEYS)", null));
        }
        if (presented == null || presented.isEmpty()) {
            return Mono.error(new ApiException(HttpStatus.UNAUTHORIZED, "missing " + ADMIN_HEADER + " header",
                    ADMIN_HEADER));
        }
        if (!matches(adminKeys, presented.getBytes(StandardCharsets.UTF_8))) {
            return Mono.error(new ApiException(HttpStatus.UNAUTHORIZED, "invalid " + ADMIN_HEADER, ADMIN_HEADER));
        }
        return Mono.empty();
    }

    /** True when {@code presented} (the header's value) is one of the configured keys. */
    public boolean accepts(String presented) {
        return presented != null && !presented.isEmpty() && matches(keys, presented.getBytes(StandardCharsets.UTF_8));
    }

    private static boolean matches(List<byte[]> keys, byte[] presented) {
        boolean match = false;
        for (byte[] key : keys) {
            match |= MessageDigest.isEqual(key, presented);
        }
        return match;
    }
}

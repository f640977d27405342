package io.mlgateway.api;

import io.mlgateway.access.Admission;
import io.mlgateway.access.ApiKeys;
import java.util.Optional;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Guards the API with the {@code x-api-key} header, and model operations with the separate {@code x-admin-key}
 * (never a client key). Which one a path takes is the route table's answer ({@link ApiRoutes#access}); paths
 * outside the API are not guarded (actuator lives on its own management port). Whether a key is accepted, and
 * whether it is within its rate, is {@link ApiKeys}' answer; here it becomes 401, 403 or 429.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 10)
public class ApiKeyFilter implements WebFilter {

    public static final String HEADER = ApiKeys.CLIENT_HEADER;
    public static final String ADMIN_HEADER = "x-admin-key";

    private final ApiKeys keys;
    private final ApiRoutes routes;

    public ApiKeyFilter(ApiKeys keys, ApiRoutes routes) {
        this.keys = keys;
        this.routes = routes;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String path = exchange.getRequest().getPath().pathWithinApplication().value();
        Optional<Route.Access> access = routes.access(path);
        if (access.isEmpty() || access.get() == Route.Access.PUBLIC) {
            return chain.filter(exchange);
        }
        boolean admin = access.get() == Route.Access.ADMIN;
        String header = admin ? ADMIN_HEADER : HEADER;
        Admission admission = keys.admit(exchange.getRequest().getHeaders().getFirst(header),
                admin ? ApiKeys.Role.ADMIN : ApiKeys.Role.CLIENT);
        return admission.admitted() ? chain.filter(exchange) : Mono.error(admission.refusal(header));
    }
}

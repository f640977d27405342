package io.mlgateway.oip;

import io.mlgateway.errors.ApiException;
import java.util.Optional;
import org.springframework.http.HttpStatus;

/**
 * How a request names its user on the protocol, and how a balancer routes it by that user. The user is the request
 * parameter {@link #USER_PARAMETER}; since a balancer does not read bodies, a client may also send the user in the
 * header (gRPC: metadata) {@link #HEADER}, which deploy/compose/haproxy.cfg and the Kubernetes router hash
 * (docs/SCALING.md, "Routing by user"). One check for both protocols.
 */
public final class UserRouting {

    /** The request parameter naming the user whose model scores it. */
    public static final String USER_PARAMETER = "user_id";
    /** The header (gRPC metadata key) a balancer routes by. */
    public static final String HEADER = "x-user-id";

    private UserRouting() {
    }

    /**
     * A request routed by its user's header must be for that user: otherwise the balancer sent it to the instance
     * holding another user's model, and every such request would load its user a second time somewhere else.
     */
    public static void check(Optional<String> routedAs, InferenceRequest request) {
        if (routedAs.isEmpty()) {
            return;
        }
        request.stringParameter(USER_PARAMETER).filter(user -> !user.equals(routedAs.get())).ifPresent(user -> {
            throw new ApiException(HttpStatus.BAD_REQUEST, "header '" + HEADER + "' names user '" + routedAs.get()
                    + "' but the request's parameter '" + USER_PARAMETER + "' is '" + user + "'", HEADER);
        });
    }
}

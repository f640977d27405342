package io.mlgateway.api;

import io.mlgateway.api.Route.Access;
import io.mlgateway.oip.UserRouting;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.springframework.http.HttpMethod;
import org.springframework.stereotype.Component;

/**
 * The API: every endpoint, declared once. The WebFlux router ({@link WebFluxRoutes}), the direct Reactor Netty
 * routes ({@link DirectRoutes}) and the key filter ({@link ApiKeyFilter}) are all derived from this table.
 */
@Component
public class ApiRoutes {

    /** Paths under this prefix take the admin key, and only it (also those not in the table: no probing). */
    public static final String ADMIN_PREFIX = "/v1/admin/";
    /** The Open Inference Protocol's root: paths under it answer errors in the protocol's {@code {"error": …}}. */
    public static final String OIP_ROOT = "/v2";
    /** The header by which a balancer routes a request to the instance holding its user's model. */
    public static final String USER_ROUTING_HEADER = UserRouting.HEADER;

    private final List<Route> routes;

    public ApiRoutes(RegnoHandler regno, RentalsHandler rentals, ModelOperationsHandler models,
            InferenceHandler inference) {
        this.routes = List.of(
                // The customer's original contract, with and without the trailing slash its clients send.
                Route.post("/reg/", regno::legacy).servedDirect(),
                Route.post("/reg", regno::legacy).servedDirect(),
                Route.post("/v1/regno/predict", regno::predict).servedDirect(),
                Route.post("/v1/regno/predict/batch", regno::predictBatch),

                Route.post("/v1/rentals/{userId}/predict", rentals::predict).servedDirect(),
                Route.post("/v1/rentals/{userId}/predict/batch", rentals::predictBatch),
                Route.get("/v1/rentals/{userId}/model", rentals::model),
                Route.post("/v1/rentals/actuals", rentals::storeActuals),

                Route.get("/v1/rentals/{userId}/models", models::history),
                Route.get("/v1/rentals/{userId}/quality", models::quality),
                Route.post(ADMIN_PREFIX + "rentals/{userId}/rollback", models::rollBack).admin(),
                Route.post(ADMIN_PREFIX + "rentals/{userId}/promote", models::promote).admin(),
                Route.get("/v1/models", inference::models),

                // Open Inference Protocol v2 (KServe's REST data plane), both models behind one data plane.
                Route.get(OIP_ROOT + "/health/live", inference::live).open(),
                Route.get(OIP_ROOT + "/health/ready", inference::ready).open(),
                Route.get(OIP_ROOT, inference::server),
                Route.get(OIP_ROOT + "/models/{model}", inference::metadata),
                Route.get(OIP_ROOT + "/models/{model}/versions/{version}", inference::metadata),
                Route.get(OIP_ROOT + "/models/{model}/ready", inference::modelReady),
                Route.get(OIP_ROOT + "/models/{model}/versions/{version}/ready", inference::modelReady),
                Route.post(OIP_ROOT + "/models/{model}/infer", inference::infer).servedDirect(),
                Route.post(OIP_ROOT + "/models/{model}/versions/{version}/infer", inference::infer).servedDirect());
        for (Route route : routes) {
            if (route.path().startsWith(ADMIN_PREFIX) != (route.access() == Access.ADMIN)) {
                throw new IllegalStateException(route + ": admin routes, and only they, live under " + ADMIN_PREFIX);
            }
        }
    }

    public List<Route> all() {
        return routes;
    }

    public List<Route> direct() {
        return routes.stream().filter(Route::direct).toList();
    }

    /** Each path template with the methods it answers, in table order (for 405's Allow); a GET answers HEAD too. */
    public Map<String, Set<HttpMethod>> methodsByPath() {
        Map<String, Set<HttpMethod>> methods = new LinkedHashMap<>();
        for (Route route : routes) {
            Set<HttpMethod> allowed = methods.computeIfAbsent(route.path(), p -> new LinkedHashSet<>());
            allowed.add(route.method());
            if (route.method() == HttpMethod.GET) {
                allowed.add(HttpMethod.HEAD);
            }
        }
        return methods;
    }

    /**
     * Which key a request to {@code path} needs: its route's, whatever the method; for paths not in the table, the
     * admin key under {@link #ADMIN_PREFIX} and the client key elsewhere under the API's prefixes, so that without
     * a key nothing tells which paths exist. Empty: not an API path (no key asked, answered 404).
     */
    public Optional<Access> access(String path) {
        for (Route route : routes) {
            if (route.matchesRaw(path)) {
                return Optional.of(route.access());
            }
        }
        if (path.startsWith(ADMIN_PREFIX)) {
            return Optional.of(Access.ADMIN);
        }
        boolean api = path.equals("/reg") || path.startsWith("/reg/") || path.equals("/v1") || path.startsWith("/v1/")
                || isOip(path);
        return api ? Optional.of(Access.CLIENT) : Optional.empty();
    }

    /** Whether {@code path} is the protocol's, whose errors are {@code {"error": …}}. */
    public static boolean isOip(String path) {
        return path.equals(OIP_ROOT) || path.startsWith(OIP_ROOT + "/");
    }
}

package io.mlgateway.loadtests.gatling;

import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.global;

import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.util.ArrayList;
import java.util.List;

/** The HTTP client every simulation uses, and the service-level assertions they share. */
final class GatewayProtocol {

    private GatewayProtocol() {
    }

    /**
     * JSON with the API key, over a shared connection pool: the gateway's clients are services that keep
     * connections open, not browsers opening one per visit.
     */
    static HttpProtocolBuilder http(LoadSettings settings) {
        return io.gatling.javaapi.http.HttpDsl.http
                .baseUrl(settings.baseUrl())
                .header("x-api-key", settings.apiKey())
                .contentTypeHeader("application/json")
                .acceptHeader("application/json")
                .shareConnections()
                // Gatling's default warm-up fetches an external page; this machine (and CI) may have no internet.
                .disableWarmUp();
    }

    /**
     * The promise: no failed request at all (warm-up included), p99 under the bound for each measured request
     * (named in {@code measured}), and the load really sent: a simulation that sends nothing must not pass.
     * {@code expectedRequests} (measured ones) allows 1% for the injector's rounding.
     */
    static List<Assertion> promise(LoadSettings settings, long expectedRequests, List<String> measured) {
        List<Assertion> assertions = new ArrayList<>();
        assertions.add(global().failedRequests().percent().is(0.0));
        for (String name : measured) {
            assertions.add(details(name).responseTime().percentile(99.0).lt(settings.p99Millis()));
        }
        assertions.add(global().allRequests().count().gte((long) Math.floor(expectedRequests * 0.99)));
        return assertions;
    }

    /** The warm-up's name for a request. */
    static String warmUp(String name) {
        return LoadSettings.WARM_UP + name;
    }
}

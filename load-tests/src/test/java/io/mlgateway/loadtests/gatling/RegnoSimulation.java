package io.mlgateway.loadtests.gatling;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.doSwitch;
import static io.gatling.javaapi.core.CoreDsl.feed;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.onCase;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.Simulation;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The customer's 100 recognitions, each sent to the original endpoint {@code /reg/} and then to
 * {@code /v1/regno/predict}, over and over, at {@code rate} requests/s for {@code duration} (open model), after
 * the warm-up. Every answer must be a 200 with the probabilities; the run fails on any failed request, on a p99
 * over {@code p99Ms} for either endpoint, or if the load was not sent. {@code users} does not apply: regno has no
 * per-user state.
 */
public class RegnoSimulation extends Simulation {

    static final String LEGACY = "POST /reg/";
    static final String V1 = "POST /v1/regno/predict";

    private final LoadSettings settings = LoadSettings.fromSystemProperties(1);
    private final List<String> bodies = Feeds.regnoBodies();
    private final AtomicLong sent = new AtomicLong();

    /** Arrival i: recognition (i / 2) mod 100, to /reg/ when i is even and to /v1 when odd. */
    private final Iterator<Map<String, Object>> arrivals = Stream.generate(() -> {
        long i = sent.getAndIncrement();
        return Map.<String, Object>of(
                "body", bodies.get((int) ((i / 2) % bodies.size())),
                "endpoint", i % 2 == 0 ? "legacy" : "v1");
    }).iterator();

    {
        System.out.println("RegnoSimulation: " + settings.describe());
        setUp(scenario("regno warm-up").exec(recognition(LoadSettings.WARM_UP))
                        .injectOpen(settings.arrivals(settings.rate(), true))
                        .andThen(scenario("regno").exec(recognition(""))
                                .injectOpen(settings.arrivals(settings.rate(), false))))
                .protocols(GatewayProtocol.http(settings))
                .assertions(GatewayProtocol.promise(settings, settings.expectedRequests(1), List.of(LEGACY, V1)));
    }

    private ChainBuilder recognition(String prefix) {
        return feed(arrivals).exec(doSwitch("#{endpoint}").on(
                onCase("legacy").then(http(prefix + LEGACY).post("/reg/").body(StringBody("#{body}"))
                        .check(status().is(200), jsonPath("$.status").is("ok"),
                                jsonPath("$.body.positive").ofDouble().exists())),
                onCase("v1").then(http(prefix + V1).post("/v1/regno/predict").body(StringBody("#{body}"))
                        .check(status().is(200), jsonPath("$.positive").ofDouble().exists(),
                                jsonPath("$.model_version").exists()))));
    }
}

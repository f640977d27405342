package io.mlgateway.loadtests.gatling;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.feed;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.Simulation;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Rentals forecasts for many users ({@code users}, default 1,000: {@code <userPrefix>-1} ..
 * {@code <userPrefix>-N}, prefix default {@code sim-user}), each arrival a random user and a random hour of
 * hour.csv, at {@code rate} requests/s for {@code duration} (open model), after the warm-up. Users without a model
 * of their own are served the base model, so the run works against a fresh database too. Every answer must be a
 * 200 with a prediction and a {@code request_id}; the run fails on any failed request, on p99 over {@code p99Ms},
 * or if the load was not sent.
 */
public class RentalsSimulation extends Simulation {

    static final String PREDICT = "POST /v1/rentals/{user}/predict";

    private final LoadSettings settings = LoadSettings.fromSystemProperties(1000);
    private final String userPrefix = System.getProperty("userPrefix", "sim-user");
    private final List<Feeds.Hour> hours = Feeds.hours();

    private final Iterator<Map<String, Object>> arrivals = Stream.generate(() -> {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return Map.<String, Object>of(
                "user", userPrefix + "-" + (1 + random.nextInt(settings.users())),
                "body", hours.get(random.nextInt(hours.size())).body());
    }).iterator();

    {
        System.out.println("RentalsSimulation: " + settings.describe() + " userPrefix=" + userPrefix);
        setUp(scenario("rentals warm-up").exec(forecast(LoadSettings.WARM_UP))
                        .injectOpen(settings.arrivals(settings.rate(), true))
                        .andThen(scenario("rentals").exec(forecast(""))
                                .injectOpen(settings.arrivals(settings.rate(), false))))
                .protocols(GatewayProtocol.http(settings))
                .assertions(GatewayProtocol.promise(settings, settings.expectedRequests(1), List.of(PREDICT)));
    }

    private ChainBuilder forecast(String prefix) {
        return feed(arrivals).exec(http(prefix + PREDICT).post("/v1/rentals/#{user}/predict").body(StringBody("#{body}"))
                .check(status().is(200), jsonPath("$.prediction").ofDouble().exists(),
                        jsonPath("$.request_id").exists()));
    }
}

package io.mlgateway.loadtests.gatling;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.asLongAs;
import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.feed;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.repeat;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The whole loop under load: each arrival asks for a forecast for one of {@code users} users (default 20,
 * {@code <userPrefix>-1} .. {@code -N}, prefix default {@code feedback-user}, in turn), then, after
 * {@code actualDelayMs} (default 1000), posts that hour's true count from hour.csv as the actual of the
 * forecast's {@code request_id}. Every 50 actuals of a user the retrainer fits a new version, and the gateway swaps
 * it in during the run. {@code rate} counts both requests (so {@code rate / 2} arrivals per second); the warm-up
 * sends the same loop first.
 *
 * <p>Fails the run on any failed request (the promise: nothing fails while models change), p99 over
 * {@code p99Ms}, load not sent, or no swap at all: some user must be served a newer version than its first
 * forecast of the run (if none was by the end of the load, the users are asked again for up to
 * {@code retrainTimeoutSeconds}, default 60, then the last check fails). The versions each user was served are
 * printed at the end.
 */
public class FeedbackLoopSimulation extends Simulation {

    static final String PREDICT = "POST /v1/rentals/{user}/predict";
    static final String ACTUAL = "POST /v1/rentals/actuals";

    private final LoadSettings settings = LoadSettings.fromSystemProperties(20);
    private final String userPrefix = System.getProperty("userPrefix", "feedback-user");
    private final Duration actualDelay =
            Duration.ofMillis(Long.parseLong(System.getProperty("actualDelayMs", "1000")));
    private final Duration retrainTimeout =
            Duration.ofSeconds(Long.parseLong(System.getProperty("retrainTimeoutSeconds", "60")));
    private final List<Feeds.Hour> hours = Feeds.hours();

    /** Versions served to each user during the run, as the forecasts' model_version said. */
    private final Map<String, ConcurrentSkipListSet<Long>> served = new ConcurrentHashMap<>();

    private final AtomicLong arrived = new AtomicLong();
    private final Iterator<Map<String, Object>> arrivals = Stream.generate(() -> {
        long i = arrived.getAndIncrement();
        Feeds.Hour hour = hours.get((int) (i % hours.size()));
        return Map.<String, Object>of("user", user(i), "body", hour.body(), "count", hour.count());
    }).iterator();

    /** One arrival: a forecast, then (after actualDelay) its actual; request names start with {@code prefix}. */
    private ChainBuilder forecastThenActual(String prefix) {
        return feed(arrivals)
                .exec(http(prefix + PREDICT).post("/v1/rentals/#{user}/predict").body(StringBody("#{body}"))
                        .check(status().is(200), jsonPath("$.request_id").saveAs("requestId"),
                                jsonPath("$.model_version").ofLong().saveAs("version")))
                .exec(this::recordServed)
                .exitHereIfFailed()
                .pause(actualDelay)
                .exec(http(prefix + ACTUAL).post("/v1/rentals/actuals")
                        .body(StringBody("{\"actuals\":[{\"request_id\":\"#{requestId}\",\"actual_value\":#{count}}]}"))
                        .check(status().is(200), jsonPath("$.counts.stored").ofInt().is(1)));
    }

    /**
     * After the load: one check that some user was served a newer model than its first forecast of the run. While
     * none was, every user is asked for a forecast each half second, for at most retrainTimeout. Not every user
     * must change: the retrainer rejects a fit that validates worse than the current model and then leaves that
     * user alone for its cool-down (docs/RETRAIN.md), which is the product working.
     */
    private final ScenarioBuilder retrainedModelServed = scenario("retrained model served")
            .exec(session -> session.set("deadline", System.nanoTime() + retrainTimeout.toNanos()))
            .asLongAs(session -> changedUser() == null && System.nanoTime() < session.getLong("deadline")).on(
                    pause(Duration.ofMillis(500)),
                    repeat(settings.users(), "i").on(
                            exec(session -> session.set("user", user(session.getInt("i")))
                                    .set("body", hours.get(0).body())),
                            forecast("forecast, awaiting a retrained model").check(status().is(200),
                                    jsonPath("$.model_version").ofLong().saveAs("version")),
                            exec(this::recordServed)))
            .exec(session -> {
                String user = changedUser();
                return session.set("user", user == null ? user(0) : user).set("body", hours.get(0).body())
                        .set("first", firstServed(user == null ? user(0) : user));
            })
            .exec(forecast("forecast by a retrained model").check(status().is(200),
                    jsonPath("$.model_version").ofLong().gt(session -> session.getLong("first"))));

    {
        System.out.println("FeedbackLoopSimulation: " + settings.describe() + " userPrefix=" + userPrefix
                + " actualDelayMs=" + actualDelay.toMillis() + " retrainTimeoutSeconds=" + retrainTimeout.toSeconds());
        setUp(scenario("feedback warm-up").exec(forecastThenActual(LoadSettings.WARM_UP))
                        .injectOpen(settings.arrivals(settings.rate() / 2, true))
                        .andThen(scenario("forecast, then its actual").exec(forecastThenActual(""))
                                .injectOpen(settings.arrivals(settings.rate() / 2, false))
                                .andThen(retrainedModelServed.injectOpen(atOnceUsers(1)))))
                .protocols(GatewayProtocol.http(settings))
                .assertions(GatewayProtocol.promise(settings, settings.expectedRequests(2), List.of(PREDICT, ACTUAL)));
    }

    @Override
    public void after() {
        Map<String, ConcurrentSkipListSet<Long>> sorted = new TreeMap<>(served);
        long changed = served.values().stream().filter(v -> v.size() > 1).count();
        System.out.println("FeedbackLoopSimulation: " + changed + " of " + settings.users()
                + " users were served a retrained model; versions served per user:");
        sorted.forEach((user, versions) -> System.out.println("  " + user + ": " + versions.size() + " versions "
                + versions.first() + " .. " + versions.last()));
    }

    private Session recordServed(Session session) {
        if (session.contains("version")) {
            served.computeIfAbsent(session.getString("user"), u -> new ConcurrentSkipListSet<>())
                    .add(session.getLong("version"));
        }
        return session;
    }

    /** A user served more than one version so far, or null. */
    private String changedUser() {
        return served.entrySet().stream().filter(e -> e.getValue().size() > 1).map(Map.Entry::getKey).findFirst()
                .orElse(null);
    }

    private String user(long i) {
        return userPrefix + "-" + (1 + i % settings.users());
    }

    /** The version of the user's first forecast of the run; a user never served cannot pass the last check. */
    private long firstServed(String user) {
        ConcurrentSkipListSet<Long> versions = served.get(user);
        return versions == null || versions.isEmpty() ? Long.MAX_VALUE : versions.first();
    }

    private static io.gatling.javaapi.http.HttpRequestActionBuilder forecast(String name) {
        return http(name).post("/v1/rentals/#{user}/predict").body(StringBody("#{body}"));
    }

}

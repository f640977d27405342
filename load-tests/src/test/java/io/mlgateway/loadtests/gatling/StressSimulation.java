package io.mlgateway.loadtests.gatling;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.details;
import static io.gatling.javaapi.core.CoreDsl.rampUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.responseTimeInMillis;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.core.CoreDsl.stopLoadGeneratorIf;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Raises the arrival rate level by level until the gateway stops keeping the promise, and reports where.
 * Levels: {@code startRate} (default 500) requests/s, then +{@code rateStep} (default 500) per level up to
 * {@code maxRate} (default 15,000), each reached by a {@code rampSeconds} (default 3) ramp and held
 * {@code stepSeconds} (default 15), after a warm-up of {@code warmupSeconds} at the start rate.
 * {@code endpoint} is {@code regno} (default, the 100 recognitions on {@code /v1/regno/predict}) or
 * {@code rentals} (hour.csv on {@code /v1/rentals/{user}/predict}, {@code users} users, default 1,000).
 *
 * <p>A level crosses when more than {@code maxErrorPercent} (default 1) of its requests fail or its p99 reaches
 * {@code p99Ms} (default 25); the first crossing stops the load. Requests carry their level in their name, so the
 * HTML report has a row per level, and the levels' table and the verdict are printed and written to
 * {@code stressSummary} (default {@code target/gatling/stress-summary.md}). The run fails if a level at or below
 * {@code minRate} (default 500, the customer's bar) crossed: below that the gateway is broken, not saturated.
 * {@code rate} and {@code duration} do not apply; the schedule replaces them.
 */
public class StressSimulation extends Simulation {

    private final LoadSettings settings = LoadSettings.fromSystemProperties(1000);
    private final double startRate = Double.parseDouble(System.getProperty("startRate", "500"));
    private final double rateStep = Double.parseDouble(System.getProperty("rateStep", "500"));
    private final double maxRate = Double.parseDouble(System.getProperty("maxRate", "15000"));
    private final double minRate = Double.parseDouble(System.getProperty("minRate", "500"));
    private final Duration ramp = Duration.ofSeconds(Long.parseLong(System.getProperty("rampSeconds", "3")));
    private final Duration hold = Duration.ofSeconds(Long.parseLong(System.getProperty("stepSeconds", "15")));
    private final double maxErrorPercent = Double.parseDouble(System.getProperty("maxErrorPercent", "1"));
    private final String endpoint = System.getProperty("endpoint", "regno");
    private final Path summaryFile = Path.of(System.getProperty("stressSummary", "target/gatling/stress-summary.md"));

    private final StressLevels levels = new StressLevels(startRate, rateStep,
            rateStep == 0 ? 1 : (int) Math.floor((maxRate - startRate) / rateStep) + 1,
            settings.warmup(), ramp, hold, maxErrorPercent, settings.p99Millis());

    private final Iterator<Map<String, Object>> arrivals = arrivals();

    private final ScenarioBuilder stress = scenario("stress " + endpoint)
            .feed(arrivals)
            .exec(session -> {
                long now = System.nanoTime();
                levels.startIfNeeded(now);
                int level = levels.levelAt(now);
                return session.set("level", level).set("requestName",
                        levels.inWarmUp(now) ? LoadSettings.WARM_UP + endpoint : level < 0 ? "ramp" : levelName(level));
            })
            .exec(http("#{requestName}").post("#{path}").body(StringBody("#{body}"))
                    .check(responseTimeInMillis().saveAs("rt"), status().is(200)))
            .exec(session -> {
                levels.record(session.getInt("level"), lastResponseMillis(session), session.isFailed(), System.nanoTime());
                return session;
            })
            .exec(stopLoadGeneratorIf(session -> "crossed a bound: " + levels.verdict(),
                    session -> levels.crossed() != null));

    {
        if (!endpoint.equals("regno") && !endpoint.equals("rentals")) {
            throw new IllegalArgumentException("endpoint must be regno or rentals, not " + endpoint);
        }
        System.out.println("StressSimulation: " + settings.describe() + " endpoint=" + endpoint + " levels="
                + levels.levels() + " from " + startRate + " by " + rateStep + " req/s, ramp " + ramp.toSeconds()
                + "s, hold " + hold.toSeconds() + "s, maxErrorPercent=" + maxErrorPercent + " minRate=" + minRate);
        setUp(stress.injectOpen(schedule())).protocols(GatewayProtocol.http(settings)).assertions(promiseUpToMinRate());
    }

    @Override
    public void after() {
        levels.finish();
        String summary = "Stress " + endpoint + " against " + settings.baseUrl() + "\n\n" + levels.summary();
        System.out.println(summary);
        try {
            Files.createDirectories(summaryFile.toAbsolutePath().getParent());
            Files.writeString(summaryFile, summary);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private OpenInjectionStep[] schedule() {
        List<OpenInjectionStep> steps = new ArrayList<>();
        if (!settings.warmup().isZero()) {
            steps.add(constantUsersPerSec(startRate).during(settings.warmup()));
        }
        for (int level = 0; level < levels.levels(); level++) {
            if (level > 0) {
                steps.add(rampUsersPerSec(levels.rate(level - 1)).to(levels.rate(level)).during(ramp));
            }
            steps.add(constantUsersPerSec(levels.rate(level)).during(hold));
        }
        return steps.toArray(OpenInjectionStep[]::new);
    }

    /** Every level at or below minRate: no failed request and p99 under the bound. */
    private List<Assertion> promiseUpToMinRate() {
        List<Assertion> assertions = new ArrayList<>();
        for (int level = 0; level < levels.levels() && levels.rate(level) <= minRate; level++) {
            assertions.add(details(levelName(level)).failedRequests().percent().is(0.0));
            assertions.add(details(levelName(level)).responseTime().percentile(99.0).lt(settings.p99Millis()));
        }
        if (assertions.isEmpty()) {
            throw new IllegalArgumentException("minRate " + minRate + " is below the first level " + startRate);
        }
        return assertions;
    }

    private String levelName(int level) {
        return String.format(Locale.ROOT, "level %02d: %.0f req/s", level + 1, levels.rate(level));
    }

    /** The response time Gatling measured for the request just made (0 when it failed before an answer). */
    private static long lastResponseMillis(Session session) {
        return session.contains("rt") ? session.getLong("rt") : 0;
    }

    private Iterator<Map<String, Object>> arrivals() {
        if (endpoint.equals("rentals")) {
            List<Feeds.Hour> hours = Feeds.hours();
            return Stream.generate(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                return Map.<String, Object>of(
                        "path", "/v1/rentals/stress-user-" + (1 + random.nextInt(settings.users())) + "/predict",
                        "body", hours.get(random.nextInt(hours.size())).body());
            }).iterator();
        }
        List<String> bodies = Feeds.regnoBodies();
        return Stream.generate(() -> Map.<String, Object>of("path", "/v1/regno/predict",
                "body", bodies.get(ThreadLocalRandom.current().nextInt(bodies.size())))).iterator();
    }
}

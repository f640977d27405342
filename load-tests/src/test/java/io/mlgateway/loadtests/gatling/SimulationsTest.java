package io.mlgateway.loadtests.gatling;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A short run of every simulation against the real product (gateway and retrainer from their jars, local
 * PostgreSQL, Redis and Kafka), each in its own JVM exactly as gatling-maven-plugin runs it, so a broken simulation
 * fails the build. The runs are short and slow (tens of requests/s); their p99 bound is loosened to 500 ms: they
 * check that the simulations work and that their assertions bite, not the performance, which full-length runs
 * measure (docs/BENCHMARKS.md). Two runs that must fail show the assertions fail the run.
 */
class SimulationsTest {

    private static ProductUnderTest product;

    @BeforeAll
    static void startTheProduct() throws Exception {
        product = new ProductUnderTest();
    }

    @AfterAll
    static void stopTheProduct() throws Exception {
        if (product != null) {
            product.close();
        }
    }

    private static GatlingRun run(Class<?> simulation, Map<String, String> properties) throws Exception {
        return GatlingRun.of(simulation, product.baseUrl(), ProductUnderTest.API_KEY, properties);
    }

    private static void assertPassed(GatlingRun run) {
        run.assertPassed();
    }

    @Test
    void regnoSendsTheRecognitionsToBothEndpoints() throws Exception {
        GatlingRun run = run(RegnoSimulation.class, Map.of("rate", "40", "duration", "5", "warmupSeconds", "2"));
        assertPassed(run);
        assertThat(run.output()).contains("POST /reg/").contains("POST /v1/regno/predict");
    }

    @Test
    void rentalsSpreadsForecastsOverUsers() throws Exception {
        GatlingRun run = run(RentalsSimulation.class, Map.of("rate", "40", "duration", "5", "warmupSeconds", "2",
                "users", "25"));
        assertPassed(run);
    }

    @Test
    void theFeedbackLoopRetrainsAndSwapsWithoutAFailedRequest() throws Exception {
        // 2 users, 20 arrivals/s for 12 s: about 120 actuals each, so each user reaches 50 at least twice.
        GatlingRun run = run(FeedbackLoopSimulation.class, Map.of("rate", "40", "duration", "12", "warmupSeconds", "2",
                "users", "2", "actualDelayMs", "200", "userPrefix", "feedback-" + System.nanoTime()));
        assertPassed(run);
        assertThat(run.output()).containsPattern("[12] of 2 users were served a retrained model");
    }

    @Test
    void stressRaisesTheRateLevelByLevelAndReportsWhere() throws Exception {
        Path summary = Path.of("target/gatling/stress-summary-test.md");
        Files.deleteIfExists(summary);
        GatlingRun run = run(StressSimulation.class, Map.of("startRate", "20", "rateStep", "20", "maxRate", "60",
                "minRate", "20", "stepSeconds", "3", "rampSeconds", "1", "warmupSeconds", "2",
                "stressSummary", summary.toString()));
        assertPassed(run);
        assertThat(summary).exists();
        String table = Files.readString(summary);
        assertThat(table).contains("| 1 | 20 |").contains("| 2 | 40 |").contains("| 3 | 60 |")
                .contains("held every level up to 60 req/s");
    }

    @Test
    void aRunWithFailedRequestsFails() throws Exception {
        GatlingRun run = run(RegnoSimulation.class, Map.of("rate", "20", "duration", "2", "warmupSeconds", "0",
                "apiKey", "not-the-key"));
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.output()).contains("percentage of failed events is 0.0 : false");
    }

    @Test
    void aRunOverTheLatencyBoundFails() throws Exception {
        GatlingRun run = run(RegnoSimulation.class, Map.of("rate", "20", "duration", "2", "warmupSeconds", "0",
                "p99Ms", "0"));
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.output()).contains("99th percentile of response time is less than 0.0 : false");
    }
}

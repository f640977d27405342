package io.mlgateway.loadtests.gatling;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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

    private static final Path RESULTS = Path.of("target/gatling");
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

    private record Run(int exitCode, String output, Path report) {
    }

    private static Run run(Class<?> simulation, Map<String, String> properties) throws Exception {
        // The JVM options gatling-maven-plugin gives its fork (Gatling reflects into java.lang).
        List<String> command = new ArrayList<>(List.of("java", "-Xmx512m", "--add-opens=java.base/java.lang=ALL-UNNAMED",
                "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))));
        command.add("-DbaseUrl=" + product.baseUrl());
        command.add("-DapiKey=" + ProductUnderTest.API_KEY);
        command.add("-Dp99Ms=500");
        properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.addAll(List.of("io.gatling.app.Gatling", "-s", simulation.getName(), "-rf", RESULTS.toString(),
                "-rd", "SimulationsTest"));
        Path output = Files.createTempFile("gatling-", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError(simulation.getSimpleName() + " did not finish in 5 minutes");
        }
        String text = Files.readString(output);
        Files.delete(output);
        return new Run(process.exitValue(), text, newestReport(simulation));
    }

    private static Path newestReport(Class<?> simulation) throws IOException {
        if (!Files.isDirectory(RESULTS)) {
            return null;
        }
        String prefix = simulation.getSimpleName().toLowerCase(Locale.ROOT) + "-";
        try (Stream<Path> dirs = Files.list(RESULTS)) {
            return dirs.filter(d -> d.getFileName().toString().startsWith(prefix))
                    .max(Comparator.comparing(d -> d.getFileName().toString()))
                    .map(d -> d.resolve("index.html")).orElse(null);
        }
    }

    private static void assertPassed(Run run) {
        assertThat(run.exitCode()).as("exit code; output:%n%s", tail(run.output())).isZero();
        assertThat(run.output()).contains("percentage of failed events is 0.0 : true");
        assertThat(run.report()).isNotNull();
        assertThat(run.report()).exists();
    }

    private static String tail(String output) {
        return output.length() <= 6000 ? output : output.substring(output.length() - 6000);
    }

    @Test
    void regnoSendsTheRecognitionsToBothEndpoints() throws Exception {
        Run run = run(RegnoSimulation.class, Map.of("rate", "40", "duration", "5", "warmupSeconds", "2"));
        assertPassed(run);
        assertThat(run.output()).contains("POST /reg/").contains("POST /v1/regno/predict");
    }

    @Test
    void rentalsSpreadsForecastsOverUsers() throws Exception {
        Run run = run(RentalsSimulation.class, Map.of("rate", "40", "duration", "5", "warmupSeconds", "2",
                "users", "25"));
        assertPassed(run);
    }

    @Test
    void theFeedbackLoopRetrainsAndSwapsWithoutAFailedRequest() throws Exception {
        // 2 users, 20 arrivals/s for 12 s: about 120 actuals each, so each user reaches 50 at least twice.
        Run run = run(FeedbackLoopSimulation.class, Map.of("rate", "40", "duration", "12", "warmupSeconds", "2",
                "users", "2", "actualDelayMs", "200", "userPrefix", "feedback-" + System.nanoTime()));
        assertPassed(run);
        assertThat(run.output()).containsPattern("[12] of 2 users were served a retrained model");
    }

    @Test
    void stressRaisesTheRateLevelByLevelAndReportsWhere() throws Exception {
        Path summary = Path.of("target/gatling/stress-summary-test.md");
        Files.deleteIfExists(summary);
        Run run = run(StressSimulation.class, Map.of("startRate", "20", "rateStep", "20", "maxRate", "60",
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
        Run run = run(RegnoSimulation.class, Map.of("rate", "20", "duration", "2", "warmupSeconds", "0",
                "apiKey", "not-the-key"));
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.output()).contains("percentage of failed events is 0.0 : false");
    }

    @Test
    void aRunOverTheLatencyBoundFails() throws Exception {
        Run run = run(RegnoSimulation.class, Map.of("rate", "20", "duration", "2", "warmupSeconds", "0",
                "p99Ms", "0"));
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.output()).contains("99th percentile of response time is less than 0.0 : false");
    }
}

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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One simulation run in its own JVM exactly as gatling-maven-plugin runs it, against {@code baseUrl}: its exit
 * code, its output and its HTML report.
 */
public record GatlingRun(int exitCode, String output, Path report) {

    static final Path RESULTS = Path.of("target/gatling");

    public static GatlingRun of(Class<?> simulation, String baseUrl, String apiKey, Map<String, String> properties)
            throws Exception {
        // The JVM options gatling-maven-plugin gives its fork (Gatling reflects into java.lang).
        List<String> command = new ArrayList<>(List.of("java", "-Xmx512m", "--add-opens=java.base/java.lang=ALL-UNNAMED",
                "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))));
        command.add("-DbaseUrl=" + baseUrl);
        command.add("-DapiKey=" + apiKey);
        command.add("-Dp99Ms=500");
        properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.addAll(List.of("io.gatling.app.Gatling", "-s", simulation.getName(), "-rf", RESULTS.toString(),
                "-rd", simulation.getSimpleName()));
        Path output = Files.createTempFile("gatling-", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError(simulation.getSimpleName() + " did not finish in 10 minutes");
        }
        String text = Files.readString(output);
        Files.delete(output);
        return new GatlingRun(process.exitValue(), text, newestReport(simulation));
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

    /** Exit 0, no failed request, a report written. */
    public void assertPassed() {
        assertThat(exitCode).as("exit code; output:%n%s", tail()).isZero();
        assertThat(output).contains("percentage of failed events is 0.0 : true");
        assertThat(report).isNotNull();
        assertThat(report).exists();
    }

    /**
     * The OK count of the requests named {@code request}, warm-up ({@code "warm-up: "} prefix) included, in the
     * final summary, whose rows read {@code > name | total | OK | KO}.
     */
    public long okCount(String request) {
        String summary = output.substring(Math.max(0, output.lastIndexOf("---- Requests")));
        int end = summary.indexOf("\n---- ");
        if (end > 0) {
            summary = summary.substring(0, end);
        }
        Matcher row = Pattern.compile("(?m)^>\\s+(?:\\S.*?: )?" + Pattern.quote(request)
                + "\\s+\\|\\s+[\\d,]+\\s+\\|\\s+([\\d,]+)\\s+\\|").matcher(summary);
        long total = 0;
        while (row.find()) {
            total += Long.parseLong(row.group(1).replace(",", ""));
        }
        return total;
    }

    public String tail() {
        return output.length() <= 6000 ? output : output.substring(output.length() - 6000);
    }
}

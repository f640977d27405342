package io.mlgateway.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Prometheus operations config in deploy/prometheus is valid and its alerting rules pass their promtool unit
 * tests: runs deploy/prometheus/check.sh (which installs promtool through apt if it is missing). Fails, never
 * skips, when promtool cannot be installed or run.
 */
class PrometheusRulesTest {

    /** The gateway module's directory is the working directory of its tests. */
    private static final Path CHECK = Path.of("..", "deploy", "prometheus", "check.sh");

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void configIsValidAndRuleTestsPass() throws Exception {
        assertThat(CHECK).as("run from the gateway module directory").isRegularFile();
        Path output = Files.createTempFile("prometheus-check", ".log");
        try {
            Process check = new ProcessBuilder("bash", CHECK.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            // Five minutes covers an apt install of the prometheus package on a slow mirror.
            boolean finished = check.waitFor(5, TimeUnit.MINUTES);
            if (!finished) {
                check.descendants().forEach(ProcessHandle::destroyForcibly);
                check.destroyForcibly().waitFor();
            }
            String log = Files.readString(output, StandardCharsets.UTF_8);
            assertThat(finished).as("check.sh did not finish within 5 minutes; its output so far:%n%s", log).isTrue();
            assertThat(check.exitValue()).as("check.sh failed; its output:%n%s", log).isZero();
            assertThat(log).contains("all checks passed");
        } finally {
            Files.deleteIfExists(output);
        }
    }
}

package io.mlgateway.loadtests.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import io.mlgateway.api.ApiRoutes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What cannot run here (a Kubernetes cluster, a Docker engine) is checked with the real tools that install here, by
 * each deployment's own check script: deploy/k8s/check.sh renders every kustomize overlay with kubectl and validates
 * the manifests against the Kubernetes schemas and the project's policies; deploy/compose/check.sh validates the
 * compose file with docker-compose, the balancer's configuration with haproxy, Prometheus' with promtool. Each
 * script also proves its validator rejects a broken input. Fails, never skips, when a tool cannot be installed.
 */
class DeploymentConfigurationTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @ParameterizedTest
    @ValueSource(strings = {"deploy/k8s/check.sh", "deploy/compose/check.sh"})
    void theDeploymentValidatesWithTheRealTools(String script) throws Exception {
        Path output = Files.createTempFile("deploy-check", ".log");
        try {
            Process check = new ProcessBuilder("bash", ROOT.resolve(script).toString())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            // Minutes: a first run installs its tools (apt, npm) on a slow mirror.
            boolean finished = check.waitFor(8, TimeUnit.MINUTES);
            if (!finished) {
                check.descendants().forEach(ProcessHandle::destroyForcibly);
                check.destroyForcibly().waitFor();
            }
            String log = Files.readString(output, StandardCharsets.UTF_8);
            assertThat(finished).as("%s did not finish within 8 minutes; its output so far:%n%s", script, log).isTrue();
            assertThat(check.exitValue()).as("%s failed; its output:%n%s", script, log).isZero();
            assertThat(log).contains("all checks passed");
        } finally {
            Files.deleteIfExists(output);
        }
    }

    /** The balancer routes by the header the gateway defines for it (ApiRoutes.USER_ROUTING_HEADER), not a copy. */
    @Test
    void theBalancerHashesTheGatewaysRoutingHeader() throws Exception {
        String balancer = Files.readString(ROOT.resolve("deploy/compose/haproxy.cfg"));
        assertThat(balancer).contains("http-request set-var(txn.user) req.hdr(" + ApiRoutes.USER_ROUTING_HEADER + ")")
                .contains("balance hash var(txn.user)");
    }
}

package io.mlgateway.loadtests.gatling;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.shared.testing.AppProcess;
import io.mlgateway.shared.testing.LocalServices;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The README's path, in a copy of this source tree: {@code deploy/local/run.sh} starts the gateway and the
 * retrainer, then {@code load-tests/gatling.sh Regno} rebuilds the modules ({@code ./mvnw install}, which
 * repackages {@code gateway/target/gateway.jar}) and sends its load. The running gateway must neither have its
 * jar replaced under it nor fail a request. A copy, because the nested build must not rewrite the classes of the
 * build running this test; the copy's apps start from the jars this build packaged ({@code SKIP_BUILD=1}), and
 * run against the local services and a schema of their own.
 */
class LoadTestPathTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    private static Path tree;
    private static Map<String, String> environment;
    private static int port;
    private static int management;

    @BeforeAll
    static void copyTheTreeAndRunIt() throws Exception {
        tree = Files.createTempDirectory("load-test-path-");
        for (String file : run(ROOT, Map.of(), 60, "git", "ls-files").output().split("\n")) {
            if (!file.isBlank() && Files.isRegularFile(ROOT.resolve(file))) {
                copy(ROOT.resolve(file), tree.resolve(file));
            }
        }
        for (String app : List.of("gateway", "retrainer")) {
            copy(ROOT.resolve(app + "/target/" + app + ".jar"), tree.resolve(app + "/target/" + app + ".jar"));
        }
        LocalServices.TestDatabase db = LocalServices.freshDatabase();
        port = AppProcess.freePort();
        management = AppProcess.freePort();
        environment = new HashMap<>(AppProcess.services(db));
        environment.putAll(Map.of(
                "SKIP_BUILD", "1",
                // The services this build runs on, not a second set in the copy.
                "LOCAL_SERVICES_DIR", System.getenv().getOrDefault("LOCAL_SERVICES_DIR",
                        ROOT.resolve(".local-services").toString()),
                "LOCAL_RUN_DIR", tree.resolve("run").toString(),
                "SERVER_PORT", Integer.toString(port),
                "MANAGEMENT_SERVER_PORT", Integer.toString(management), "GATEWAY_GRPC_PORT", "0",
                "RETRAINER_PORT", Integer.toString(AppProcess.freePort()),
                "GATEWAY_JAVA_OPTS", "-Xmx384m",
                "RETRAINER_JAVA_OPTS", "-Xmx256m"));
        Result started = run(tree, environment, 300, "deploy/local/run.sh");
        assertThat(started.exitCode()).as("run.sh:%n%s", started.output()).isZero();
    }

    @AfterAll
    static void stopTheApps() throws Exception {
        if (tree != null) {
            run(tree, environment, 120, "deploy/local/run.sh", "stop");
        }
    }

    @Test
    void aRunningGatewaySurvivesTheGatlingScript() throws Exception {
        Path builtJar = tree.resolve("gateway/target/gateway.jar");
        Path runningJar = runningJar(Long.parseLong(Files.readString(tree.resolve("run/gateway.pid")).trim()));
        String before = sha256(runningJar);
        String builtBefore = sha256(builtJar);

        // Offline: this build has resolved every artifact the nested one needs.
        Result gatling = run(tree, Map.of("MAVEN_ARGS", "-o"), 600, "load-tests/gatling.sh", "Regno",
                "-DbaseUrl=http://127.0.0.1:" + port, "-Drate=50", "-Dduration=5", "-DwarmupSeconds=2", "-Dp99Ms=500");

        assertThat(gatling.exitCode()).as("gatling.sh:%n%s", gatling.tail()).isZero();
        assertThat(gatling.output()).contains("percentage of failed events is 0.0 : true");
        // The script did rebuild the jar in the tree: the hazard was there, and the gateway did not run from it.
        assertThat(sha256(builtJar)).as("gateway/target/gateway.jar repackaged by gatling.sh").isNotEqualTo(builtBefore);
        assertThat(runningJar.startsWith(tree.resolve("gateway/target"))).as("%s runs from target/", runningJar).isFalse();
        assertThat(sha256(runningJar)).as("the running gateway's jar").isEqualTo(before);
        assertThat(AppProcess.get("http://127.0.0.1:" + management + "/actuator/health/readiness")).isEqualTo(200);
        assertThat(postRegno()).isEqualTo(200);
        assertThat(Files.readString(tree.resolve("run/gateway.log"))).doesNotContain("NoClassDefFoundError");
    }

    /** The jar a running JVM was started with, from its command line. */
    private static Path runningJar(long pid) {
        try {
            String[] args = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8)
                    .split("\0");
            for (int i = 0; i < args.length - 1; i++) {
                if (args[i].equals("-jar")) {
                    Path jar = Path.of(args[i + 1]);
                    return jar.isAbsolute() ? jar : tree.resolve(jar);
                }
            }
            throw new AssertionError("no -jar in the gateway's command line: " + String.join(" ", args));
        } catch (IOException e) {
            throw new AssertionError("the gateway (pid " + pid + ") is not running", e);
        }
    }

    private static int postRegno() throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/reg/").toURL()
                .openConnection();
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setRequestProperty("content-type", "application/json");
        c.setRequestProperty("x-api-key", "local-dev-key");
        c.getOutputStream().write(Files.readAllBytes(tree.resolve("deploy/local/sample-regno.json")));
        int status = c.getResponseCode();
        c.disconnect();
        return status;
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    private record Result(int exitCode, String output) {
        String tail() {
            return output.length() <= 6000 ? output : output.substring(output.length() - 6000);
        }
    }

    private static Result run(Path dir, Map<String, String> env, int timeoutSeconds, String... command)
            throws Exception {
        Path log = Files.createTempFile("load-test-path-", ".log");
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().putAll(env);
        Process process = builder.start();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish in " + timeoutSeconds + " s:\n"
                    + Files.readString(log));
        }
        String output = Files.readString(log);
        Files.delete(log);
        return new Result(process.exitValue(), output);
    }
}

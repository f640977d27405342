package io.mlgateway.loadtests.gatling;

import io.mlgateway.core.testing.LocalServices;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The gateway and the retrainer started from their built jars, as deploy/local/run.sh starts them, against the
 * local services and a schema of their own, so the simulations run against the real product. Their logs go to
 * {@code target/product-under-test/}.
 */
final class ProductUnderTest implements AutoCloseable {

    static final String API_KEY = "simulation-test-key";

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path LOGS = Path.of("target/product-under-test");

    private final List<Process> processes = new ArrayList<>();
    private final int port = freePort();

    ProductUnderTest() throws Exception {
        Path gatewayJar = ROOT.resolve("gateway/target/gateway.jar");
        Path retrainerJar = ROOT.resolve("retrainer/target/retrainer.jar");
        for (Path jar : List.of(gatewayJar, retrainerJar)) {
            if (!Files.isRegularFile(jar)) {
                throw new IllegalStateException(jar + " is missing: build the apps first (./mvnw -DskipTests package)");
            }
        }
        Files.createDirectories(LOGS);
        LocalServices.TestDatabase db = LocalServices.freshDatabase();
        Map<String, String> services = new HashMap<>(Map.of(
                "SPRING_R2DBC_URL", db.r2dbcUrl(),
                "SPRING_R2DBC_USERNAME", db.user(),
                "SPRING_R2DBC_PASSWORD", db.password(),
                "SPRING_DATA_REDIS_URL", LocalServices.redisUri(),
                "SPRING_KAFKA_BOOTSTRAP_SERVERS", LocalServices.kafkaBootstrap()));
        int management = freePort();
        Map<String, String> gateway = new HashMap<>(services);
        gateway.putAll(Map.of("SERVER_PORT", Integer.toString(port), "MANAGEMENT_SERVER_PORT", Integer.toString(management),
                "GATEWAY_API_KEYS", API_KEY));
        start("gateway", gatewayJar, "-Xmx384m", gateway);
        await("gateway ready", () -> get("http://127.0.0.1:" + management + "/actuator/health/readiness") == 200
                && rentalsAnswers());
        // As in run.sh: the gateway owns the schema, the retrainer starts once it is ready.
        int retrainerPort = freePort();
        Map<String, String> retrainer = new HashMap<>(services);
        retrainer.put("SERVER_PORT", Integer.toString(retrainerPort));
        start("retrainer", retrainerJar, "-Xmx256m", retrainer);
        await("retrainer ready", () -> get("http://127.0.0.1:" + retrainerPort + "/actuator/health") == 200);
    }

    String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    private void start(String name, Path jar, String heap, Map<String, String> env) throws IOException {
        ProcessBuilder builder = new ProcessBuilder("java", heap, "-jar", jar.toString())
                .redirectErrorStream(true)
                .redirectOutput(LOGS.resolve(name + ".log").toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("SPRING_") || k.startsWith("GATEWAY_")
                || k.startsWith("RETRAINER_") || k.equals("LOKI_URL"));
        builder.environment().putAll(env);
        processes.add(builder.start());
    }

    private boolean rentalsAnswers() throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(baseUrl() + "/v1/rentals/probe/predict").toURL().openConnection();
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setRequestProperty("content-type", "application/json");
        c.setRequestProperty("x-api-key", API_KEY);
        c.getOutputStream().write(Feeds.hours().get(0).body().getBytes(StandardCharsets.UTF_8));
        int status = c.getResponseCode();
        c.disconnect();
        return status == 200;
    }

    private static int get(String url) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
            c.setConnectTimeout(1000);
            int status = c.getResponseCode();
            c.disconnect();
            return status;
        } catch (IOException e) {
            return -1;
        }
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private void await(String what, Condition condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            for (Process p : processes) {
                if (!p.isAlive()) {
                    throw new IllegalStateException("a process exited (" + p.exitValue() + ") before: " + what
                            + "; see " + LOGS.toAbsolutePath());
                }
            }
            try {
                if (condition.holds()) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("timed out waiting for: " + what + "; see " + LOGS.toAbsolutePath());
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }
}

package io.mlgateway.loadtests.gatling;

import io.mlgateway.shared.testing.AppProcess;
import io.mlgateway.shared.testing.KeyHashes;
import io.mlgateway.shared.testing.LocalServices;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The gateway and the retrainer started from their built jars, as deploy/local/run.sh starts them, against the
 * local services and a schema of their own, so the simulations run against the real product. Their logs go to
 * {@code target/product-under-test/}.
 */
public final class ProductUnderTest implements AutoCloseable {

    public static final String API_KEY = "simulation-test-key";

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path LOGS = Path.of("target/product-under-test");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    private final List<AppProcess> processes = new ArrayList<>();
    private final int port = AppProcess.freePort();

    public ProductUnderTest() throws Exception {
        LocalServices.TestDatabase db = LocalServices.freshDatabase();
        int management = AppProcess.freePort();
        Map<String, String> gateway = new HashMap<>(AppProcess.services(db));
        gateway.putAll(Map.of("SERVER_PORT", Integer.toString(port), "MANAGEMENT_SERVER_PORT", Integer.toString(management), "GATEWAY_GRPC_PORT", "0",
                "GATEWAY_API_KEYS", KeyHashes.sha256(API_KEY)));
        AppProcess gatewayProcess = start("gateway", "gateway/target/gateway.jar", "-Xmx384m", gateway);
        gatewayProcess.await("gateway ready", START_TIMEOUT, () -> AppProcess.get("http://127.0.0.1:" + management
                + "/actuator/health/readiness") == 200 && rentalsAnswers());
        // As in run.sh: the gateway owns the schema, the retrainer starts once it is ready.
        int retrainerPort = AppProcess.freePort();
        Map<String, String> retrainer = new HashMap<>(AppProcess.services(db));
        retrainer.put("SERVER_PORT", Integer.toString(retrainerPort));
        AppProcess retrainerProcess = start("retrainer", "retrainer/target/retrainer.jar", "-Xmx256m", retrainer);
        retrainerProcess.await("retrainer ready", START_TIMEOUT,
                () -> AppProcess.get("http://127.0.0.1:" + retrainerPort + "/actuator/health") == 200);
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    private AppProcess start(String name, String jar, String heap, Map<String, String> env) throws IOException {
        AppProcess process = AppProcess.start(ROOT.resolve(jar), env, AppProcess.Environment.INHERIT_OTHERS,
                LOGS.resolve(name + ".log"), heap);
        processes.add(process);
        return process;
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

    @Override
    public void close() throws InterruptedException {
        for (AppProcess p : processes) {
            p.stop();
        }
    }
}

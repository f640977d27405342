package io.mlgateway.retrain;

import io.mlgateway.shared.testing.AppProcess;
import io.mlgateway.shared.testing.KeyHashes;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** The packaged gateway (gateway/target/gateway.jar), run as its own process the way operators run it. */
final class GatewayProcess implements AutoCloseable {

    static final String KEY = "e2e-key";
    static final String ADMIN_KEY = "e2e-admin-key";

    private final AppProcess process;
    private final int port;
    private final HttpClient http = HttpClient.newHttpClient();

    private GatewayProcess(AppProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    static GatewayProcess start(Map<String, String> environment) throws IOException {
        int port = AppProcess.freePort();
        Map<String, String> env = new HashMap<>(environment);
        env.put("GATEWAY_API_KEYS", KeyHashes.sha256(KEY));
        env.put("GATEWAY_ADMIN_KEYS", KeyHashes.sha256(ADMIN_KEY));
        env.put("SERVER_PORT", Integer.toString(port));
        env.put("MANAGEMENT_SERVER_PORT", Integer.toString(AppProcess.freePort()));
        env.put("GATEWAY_GRPC_PORT", "0");
        return new GatewayProcess(AppProcess.start(Path.of("..", "gateway", "target", "gateway.jar"), env,
                AppProcess.Environment.INHERIT_OTHERS, Files.createTempFile("e2e-gateway", ".log"), "-Xmx384m"), port);
    }

    HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("x-api-key", KEY).header("content-type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A model operation under /v1/admin/, with the admin key. */
    HttpResponse<String> admin(String path, String json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("x-admin-key", ADMIN_KEY).header("content-type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Whether the gateway can score both models now (the Open Inference Protocol's readiness, which takes no key). */
    boolean isReady() {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/health/ready"))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    String log() {
        return process.log();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        process.close();
    }
}

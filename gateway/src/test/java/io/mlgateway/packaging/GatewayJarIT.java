package io.mlgateway.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import io.mlgateway.shared.testing.KeyHashes;

import io.mlgateway.shared.testing.AppProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The packaged jar, started as an operator would with nothing but GATEWAY_API_KEYS and its ports in its environment
 * (no database, cache or broker configured or needed), serves the regno endpoints and its management port.
 */
class GatewayJarIT {

    private static final String BODY = """
            {"regno_recognize":"А939НО196","afts_regno_ai":"А939НО190","recognition_accuracy":6.4,
             "afts_regno_ai_score":0.8689166903495789,
             "afts_regno_ai_char_scores":"[0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 1.0, 0.99, 0.87]",
             "afts_regno_ai_length_scores":"[3.2e-10, 1.0]","camera_type":"Стационарная",
             "camera_class":"Астра-Трафик","time_check":"2021-08-01 09:02:59","direction":0}""";

    private AppProcess gateway;

    @AfterEach
    void stop() throws InterruptedException {
        if (gateway != null) {
            gateway.stop();
        }
    }

    @Test
    void jarServesRegnoWithOnlyTheApiKeyInItsEnvironment() throws Exception {
        int port = AppProcess.freePort();
        int managementPort = AppProcess.freePort();
        Path log = Files.createTempFile("gateway-jar", ".log");
        gateway = AppProcess.start(Path.of("target", "gateway.jar"), Map.of("GATEWAY_API_KEYS", KeyHashes.sha256("jar-test-key"),
                        "SERVER_PORT", Integer.toString(port), "MANAGEMENT_SERVER_PORT", Integer.toString(managementPort), "GATEWAY_GRPC_PORT", "0"),
                AppProcess.Environment.ONLY_GIVEN, log, "-Xmx256m");

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        String liveness = "http://127.0.0.1:" + managementPort + "/actuator/health/liveness";
        gateway.await("gateway alive", Duration.ofSeconds(60), () -> AppProcess.get(liveness) == 200);
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(liveness)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.body()).contains("UP");
        // Alive and serving regno, but not ready: rentals has no database in this environment.
        HttpResponse<String> readiness = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + managementPort + "/actuator/health/readiness")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(readiness.statusCode()).isEqualTo(503);
        assertThat(readiness.body()).contains("\"rentals\"").contains("\"phase\":\"starting\"");

        HttpResponse<String> scored = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/reg/"))
                .header("x-api-key", "jar-test-key").header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(BODY, StandardCharsets.UTF_8)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(scored.statusCode()).as(scored.body()).isEqualTo(200);
        assertThat(scored.body()).matches("\\{\"body\":\\{\"negative\":[0-9.eE-]+,\"positive\":[0-9.eE-]+},\"status\":\"ok\"}");

        HttpResponse<String> unauthorised = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/regno/predict"))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(BODY)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(unauthorised.statusCode()).isEqualTo(401);

        // Every log line is structured JSON.
        List<String> lines = Files.readAllLines(log).stream().filter(l -> !l.isBlank()).toList();
        assertThat(lines).isNotEmpty().allSatisfy(l -> assertThat(l).startsWith("{").endsWith("}"));
    }
}

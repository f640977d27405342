package io.mlgateway.retrain;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** The packaged gateway (gateway/target/gateway.jar), run as its own process the way operators run it. */
final class GatewayProcess implements AutoCloseable {

    static final String KEY = "e2e-key";

    private final Process process;
    private final Path log;
    private final int port;
    private final HttpClient http = HttpClient.newHttpClient();

    private GatewayProcess(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    static GatewayProcess start(Map<String, String> environment) throws IOException {
        Path jar = Path.of("..", "gateway", "target", "gateway.jar");
        if (!Files.exists(jar)) {
            throw new AssertionError(jar.toAbsolutePath() + " is missing: run the whole build ('./mvnw verify'), which"
                    + " packages the gateway before the retrainer's tests");
        }
        int port = freePort();
        Path log = Files.createTempFile("e2e-gateway", ".log");
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-jar", jar.toString(), "--server.port=" + port, "--management.server.port=" + freePort())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("GATEWAY_API_KEYS", KEY);
        builder.environment().putAll(environment);
        return new GatewayProcess(builder.start(), log, port);
    }

    HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("x-api-key", KEY).header("content-type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(unreadable)";
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}

package io.mlgateway.loadtests.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import io.mlgateway.shared.testing.KeyHashes;

import io.mlgateway.shared.testing.AppProcess;
import io.mlgateway.shared.testing.LocalServices;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The images the build makes ({@code gateway/target/jib-image.tar}, {@code retrainer/target/jib-image.tar}): what
 * their configuration promises (non-root, heap from the container's limit, ports, /tmp a volume), and that they
 * run: each started from its archive as a container runs it (deploy/images/run-image.sh: the image's user, a
 * read-only root file system, only the image's environment plus the services'), the gateway scoring both models
 * and, on SIGTERM, writing every answered prediction before it exits.
 */
class ImagesTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path RUNNER = ROOT.resolve("deploy/images/run-image.sh");
    private static final Path GATEWAY = ROOT.resolve("gateway/target/jib-image.tar");
    private static final Path RETRAINER = ROOT.resolve("retrainer/target/jib-image.tar");
    private static final Path LOGS = Path.of("target/images");
    private static final String KEY = "images-test-key";
    private static final String NON_ROOT = "65532";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void theArchivesDescribeNonRootApplicationsSizedByTheirContainer() throws IOException {
        for (Map.Entry<Path, List<String>> image : Map.of(GATEWAY, List.of("gateway", "8080/tcp", "8081/tcp", "8001/tcp"),
                RETRAINER, List.of("retrainer", "8082/tcp")).entrySet()) {
            String name = image.getValue().get(0);
            JsonNode manifest = JSON.readTree(entry(image.getKey(), "manifest.json")).get(0);
            assertThat(manifest.get("RepoTags").valueStream().map(JsonNode::stringValue))
                    .contains("mlgateway/" + name + ":latest");
            JsonNode config = JSON.readTree(entry(image.getKey(), manifest.get("Config").stringValue())).get("config");
            assertThat(config.get("User").stringValue()).as(name).isEqualTo(NON_ROOT + ":" + NON_ROOT);
            assertThat(config.get("Env").valueStream().map(JsonNode::stringValue))
                    .as(name).anySatisfy(env -> assertThat(env).startsWith("JAVA_TOOL_OPTIONS=")
                            .contains("-XX:MaxRAMPercentage="));
            assertThat(config.get("ExposedPorts").propertyNames()).as(name)
                    .containsExactlyInAnyOrderElementsOf(image.getValue().subList(1, image.getValue().size()));
            assertThat(config.get("Volumes").propertyNames()).as(name).containsExactly("/tmp");
            assertThat(config.get("Entrypoint").get(0).stringValue()).isEqualTo("java");
        }
    }

    @Test
    void theGatewayAndRetrainerImagesRunReadOnlyAsNonRootAndDrainOnSigterm() throws Exception {
        LocalServices.TestDatabase db = LocalServices.freshDatabase();
        int port = AppProcess.freePort();
        int management = AppProcess.freePort();
        Map<String, String> env = new HashMap<>(AppProcess.services(db));
        env.putAll(Map.of("SERVER_PORT", Integer.toString(port), "MANAGEMENT_SERVER_PORT", Integer.toString(management), "GATEWAY_GRPC_PORT", "0",
                "GATEWAY_API_KEYS", KeyHashes.sha256(KEY), "JAVA_TOOL_OPTIONS", "-Xmx384m"));
        AppProcess gateway = AppProcess.startImage(RUNNER, GATEWAY, env, LOGS.resolve("gateway.log"));
        try {
            gateway.await("gateway ready", Duration.ofMinutes(2), () -> AppProcess.get("http://127.0.0.1:"
                    + management + "/actuator/health/readiness") == 200);
            assertRunsAsNonRootOnReadOnlyRoot(gateway.pid());

            HttpResponse<String> regno = post("http://127.0.0.1:" + port + "/v1/regno/predict",
                    Files.readString(ROOT.resolve("deploy/local/sample-regno.json")));
            assertThat(regno.statusCode()).as(regno.body()).isEqualTo(200);
            assertThat(JSON.readTree(regno.body()).get("positive").isNumber()).isTrue();
            int answered = 0;
            for (int i = 0; i < 20; i++) {
                HttpResponse<String> rentals = post("http://127.0.0.1:" + port + "/v1/rentals/image-user/predict",
                        Files.readString(ROOT.resolve("load-tests/bench/rentals.json")));
                assertThat(rentals.statusCode()).as(rentals.body()).isEqualTo(200);
                answered++;
            }

            // The retrainer needs the schema the gateway applied; its image must come up against it too.
            int retrainerPort = AppProcess.freePort();
            Map<String, String> retrainerEnv = new HashMap<>(AppProcess.services(db));
            retrainerEnv.putAll(Map.of("SERVER_PORT", Integer.toString(retrainerPort), "JAVA_TOOL_OPTIONS", "-Xmx256m"));
            try (AppProcess retrainer = AppProcess.startImage(RUNNER, RETRAINER, retrainerEnv,
                    LOGS.resolve("retrainer.log"))) {
                retrainer.await("retrainer ready", Duration.ofMinutes(2), () -> AppProcess.get("http://127.0.0.1:"
                        + retrainerPort + "/actuator/health/readiness") == 200);
                assertRunsAsNonRootOnReadOnlyRoot(retrainer.pid());
            }

            long start = System.nanoTime();
            int exit = gateway.stop();
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            // 143: the JVM's exit after SIGTERM and its shutdown hooks; 137 would be the forced kill after 60 s.
            assertThat(exit).as("exit code; log:%n%s", gateway.log()).isEqualTo(143);
            assertThat(took).isLessThan(Duration.ofSeconds(45));
            assertThat(db.count("SELECT count(*) FROM rental_predictions WHERE user_id = 'image-user'"))
                    .as("every answered prediction is in the inference log after the drain").isEqualTo(answered);
        } finally {
            gateway.close();
        }
    }

    private static void assertRunsAsNonRootOnReadOnlyRoot(long pid) throws IOException {
        String status = Files.readString(Path.of("/proc/" + pid + "/status"));
        assertThat(status).containsPattern("(?m)^Uid:\\s+" + NON_ROOT + "\\s+" + NON_ROOT);
        // mountinfo: "id parent major:minor root mount-point options ..."; the process's "/" is mounted read-only.
        assertThat(Files.readAllLines(Path.of("/proc/" + pid + "/mountinfo")))
                .anySatisfy(line -> assertThat(line.split(" ")).satisfies(f -> {
                    assertThat(f[4]).isEqualTo("/");
                    assertThat(f[5]).startsWith("ro");
                }));
    }

    private HttpResponse<String> post(String url, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("x-api-key", KEY)
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** One file of a tar archive (the image archive's short names fit the plain ustar header). */
    private static byte[] entry(Path archive, String name) throws IOException {
        try (InputStream in = Files.newInputStream(archive)) {
            byte[] header = new byte[512];
            while (in.readNBytes(header, 0, 512) == 512 && header[0] != 0) {
                String entry = new String(header, 0, 100, StandardCharsets.US_ASCII).replace("\0", "");
                long size = Long.parseLong(new String(header, 124, 12, StandardCharsets.US_ASCII).replace("\0", "")
                        .trim(), 8);
                if (entry.equals(name)) {
                    return in.readNBytes((int) size);
                }
                in.skipNBytes((size + 511) / 512 * 512);
            }
        }
        throw new AssertionError(name + " is not in " + archive);
    }
}

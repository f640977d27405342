package io.mlgateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.shared.testing.KeyHashes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Who gets in, over real HTTP on both serving paths (the single-row endpoint on the direct routes, the others on
 * WebFlux): keys configured by hash, a key file rotated while the gateway runs, a per-key rate limit answering 429
 * with Retry-After in the envelope, admin keys apart from client keys, and no key ever written to the log.
 */
@ExtendWith(OutputCaptureExtension.class)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0",
        "gateway.access-log.sample-rate=1.0",
        "gateway.api.key-file-check-interval=100ms"})
class AccessControlTest {

    private static final String TEAM_A = "team-a-key";
    private static final String LIMITED = "limited-key";
    private static final String OPS = "ops-key";
    private static final String ROTATED = "rotated-key";
    private static final Path KEY_FILE;

    static {
        try {
            KEY_FILE = Files.createTempFile("gateway-keys", ".txt");
            Files.writeString(KEY_FILE, "# client keys\n" + "limited " + KeyHashes.sha256(LIMITED) + " 1/s\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @DynamicPropertySource
    static void keys(DynamicPropertyRegistry registry) {
        registry.add("gateway.api.api-keys", () -> "team-a " + KeyHashes.sha256(TEAM_A));
        registry.add("gateway.api.admin-keys", () -> "ops " + KeyHashes.sha256(OPS));
        registry.add("gateway.api.key-file", KEY_FILE::toString);
    }

    @AfterAll
    static void removeKeyFile() throws IOException {
        Files.deleteIfExists(KEY_FILE);
    }

    @LocalServerPort
    int port;

    private final HttpClient http = HttpClient.newHttpClient();
    private String sample;

    @BeforeEach
    void sample() throws IOException {
        sample = Files.readString(Path.of("../load-tests/bench/regno.json"));
    }

    private HttpResponse<String> send(String method, String path, Map<String, String> headers, String body)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20)).header("content-type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> score(String key) throws Exception {
        return send("POST", "/v1/regno/predict", key == null ? Map.of() : Map.of("x-api-key", key), sample);
    }

    private HttpResponse<String> serverMetadata(String key) throws Exception {
        return send("GET", "/v2", Map.of("x-api-key", key), null);
    }

    @Test
    void aKeyOverItsRateIsAnswered429WithRetryAfterAndOtherKeysAreNotSlowed() throws Exception {
        // limited: 1/s with the default 1 s burst. Twelve calls alternate between the direct routes (scoring) and
        // WebFlux (server metadata): at most one per elapsed second gets through, so each path sees refusals.
        List<HttpResponse<String>> direct = new ArrayList<>();
        List<HttpResponse<String>> webFlux = new ArrayList<>();
        long started = System.nanoTime();
        for (int i = 0; i < 6; i++) {
            direct.add(score(LIMITED));
            webFlux.add(serverMetadata(LIMITED));
            assertThat(score(TEAM_A).statusCode()).as("the unlimited key, between the limited one's").isEqualTo(200);
        }
        double elapsed = (System.nanoTime() - started) / 1e9;
        assertThat(elapsed).as("the calls took seconds, not milliseconds: nothing below can hold").isLessThan(5);
        assertThat(direct.get(0).statusCode()).isEqualTo(200);
        long admitted = java.util.stream.Stream.concat(direct.stream(), webFlux.stream())
                .filter(r -> r.statusCode() == 200).count();
        assertThat(admitted).isBetween(1L, 1L + (long) Math.ceil(elapsed));

        HttpResponse<String> directRefused = direct.stream().filter(r -> r.statusCode() == 429).findFirst().orElseThrow();
        assertThat(directRefused.headers().firstValue("retry-after")).hasValue("1");
        assertThat(directRefused.body()).isEqualTo(
                "{\"status\":\"fail\",\"message\":\"rate limit of key 'limited' exceeded: 1 requests/s\"}");
        HttpResponse<String> webFluxRefused = webFlux.stream().filter(r -> r.statusCode() == 429).findFirst()
                .orElseThrow();
        assertThat(webFluxRefused.headers().firstValue("retry-after")).hasValue("1");
        assertThat(webFluxRefused.body()).as("under /v2, the protocol's envelope")
                .isEqualTo("{\"error\":\"rate limit of key 'limited' exceeded: 1 requests/s\"}");
        assertThat(java.util.stream.Stream.concat(direct.stream(), webFlux.stream()).map(HttpResponse::statusCode))
                .containsOnly(200, 429);
    }

    @Test
    void keysInTheFileAreAddedAndRetiredWithoutARestart() throws Exception {
        String limited = "limited " + KeyHashes.sha256(LIMITED) + " 1/s\n";
        assertThat(score(ROTATED).statusCode()).isEqualTo(401);
        Files.writeString(KEY_FILE, limited + "rotated " + KeyHashes.sha256(ROTATED) + "\n");
        assertThat(awaitStatus(ROTATED, s -> s == 200)).as("the new key, once the file is re-read").isEqualTo(200);
        Files.writeString(KEY_FILE, limited);
        assertThat(awaitStatus(ROTATED, s -> s == 401)).as("the retired key").isEqualTo(401);
        assertThat(score(TEAM_A).statusCode()).as("the configured key throughout").isEqualTo(200);
    }

    @Test
    void clientAndAdminKeysAreNotInterchangeable() throws Exception {
        String rollback = "/v1/admin/rentals/some-user/rollback";
        assertThat(send("POST", rollback, Map.of("x-admin-key", TEAM_A), "{\"version\": 1}").statusCode())
                .isEqualTo(401);
        assertThat(send("POST", rollback, Map.of("x-api-key", TEAM_A), "{\"version\": 1}").body())
                .contains("missing x-admin-key header");
        assertThat(score(OPS).statusCode()).isEqualTo(401);
        assertThat(score(null).body()).contains("missing x-api-key header").contains("\"field\":\"x-api-key\"");
        assertThat(score(KeyHashes.sha256(TEAM_A)).statusCode()).as("the hash is not a key").isEqualTo(401);
    }

    @Test
    void noKeyAndNoPayloadReachesTheLog(CapturedOutput output) throws Exception {
        score(TEAM_A);
        score("a-wrong-key-0815");
        // Nor does a request's content: not when it is scored, not when it is refused.
        String marker = "payload-marker-31337";
        send("POST", "/v1/regno/predict", Map.of("x-api-key", TEAM_A), sample.replaceFirst("\\{", "{\"note\":\"" + marker + "\","));
        send("POST", "/v1/regno/predict", Map.of("x-api-key", TEAM_A), "{\"plate\": \"" + marker);
        send("POST", "/v1/regno/predict/batch", Map.of("x-api-key", TEAM_A), "[{\"x\": \"" + marker + "\"}]");
        send("POST", "/v1/admin/rentals/u/rollback", Map.of("x-admin-key", OPS), "{\"version\": 1}");
        assertThat(output.getOut()).as("access lines were written").contains("/v1/regno/predict");
        for (String key : List.of(TEAM_A, LIMITED, OPS, ROTATED, "a-wrong-key-0815", marker)) {
            assertThat(output.getAll()).doesNotContain(key);
        }
    }

    private int awaitStatus(String key, Predicate<Integer> done) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        int status;
        do {
            status = score(key).statusCode();
        } while (!done.test(status) && System.nanoTime() < deadline);
        return status;
    }
}

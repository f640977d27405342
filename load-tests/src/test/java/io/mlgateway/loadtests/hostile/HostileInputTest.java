package io.mlgateway.loadtests.hostile;

import static org.assertj.core.api.Assertions.assertThat;
import io.mlgateway.shared.testing.KeyHashes;

import io.mlgateway.shared.testing.AppProcess;
import io.mlgateway.shared.testing.LocalServices;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Hostile input against the packaged gateway over real HTTP (jqwik properties): valid bodies of every scoring
 * endpoint of both protocols, then truncated, spliced with garbage or invalid UTF-8, nested thousands deep, with
 * values replaced by NaN, Infinity, huge numbers, huge strings, wrong types, with unknown fields; and rentals users
 * with odd ids (path traversal, SQL metacharacters, very long, percent-encoded), also on the read-only and admin
 * endpoints; hostile bodies on the admin rollback and promotion; batches over the row limit (and over the body
 * limit). Every answer is a 200 or a 4xx in the API's error envelope, never a 5xx or a stack trace, and the
 * inference log holds exactly the predictions that were answered 200: nothing from a rejected request.
 *
 * <p>Ids stay under 3,000 characters here: a request line over Netty's 4,096-byte limit is refused by the HTTP
 * decoder before any route, with a 414 in the envelope; RequestLimitsTest (gateway) covers that on raw sockets.
 */
class HostileInputTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final String KEY = "hostile-key";
    private static final String ADMIN_KEY = "hostile-admin-key";
    private static final List<String> ADMIN_OPERATIONS = List.of("/rollback", "/promote");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static LocalServices.TestDatabase db;
    private static AppProcess gateway;
    private static int port;
    /** Rentals predictions answered 200 (rows of batches counted one by one). */
    private static final AtomicLong answeredPredictions = new AtomicLong();

    private static final String HOUR = "{\"season\":3,\"yr\":1,\"mnth\":7,\"hr\":17,\"holiday\":0,\"weekday\":3,"
            + "\"workingday\":1,\"weathersit\":1,\"temp\":0.72,\"atemp\":0.66,\"hum\":0.5,\"windspeed\":0.2}";

    /** An endpoint and a body it answers 200. */
    record Endpoint(String path, String body, boolean rentalsRows) {
    }

    @BeforeContainer
    static void startTheGateway() throws Exception {
        db = LocalServices.freshDatabase();
        port = AppProcess.freePort();
        int management = AppProcess.freePort();
        Map<String, String> env = new HashMap<>(AppProcess.services(db));
        env.putAll(Map.of("SERVER_PORT", Integer.toString(port), "MANAGEMENT_SERVER_PORT", Integer.toString(management), "GATEWAY_GRPC_PORT", "0",
                "GATEWAY_API_KEYS", KeyHashes.sha256(KEY), "GATEWAY_ADMIN_KEYS", KeyHashes.sha256(ADMIN_KEY)));
        // Every buffer tracked: a buffer the gateway never releases is reported in its log once collected.
        gateway = AppProcess.start(ROOT.resolve("gateway/target/gateway.jar"), env,
                AppProcess.Environment.INHERIT_OTHERS, Path.of("target/hostile/gateway.log"), "-Xmx384m",
                "-Dio.netty.leakDetection.level=paranoid");
        gateway.await("gateway ready", Duration.ofMinutes(2), () -> AppProcess.get("http://127.0.0.1:" + management
                + "/actuator/health/readiness") == 200);
    }

    @AfterContainer
    static void nothingStoredFromARejectedRequestThenStop() throws Exception {
        try {
            if (gateway != null) {
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                long stored;
                do {
                    stored = db.count("SELECT count(*) FROM rental_predictions");
                } while (stored < answeredPredictions.get() && System.nanoTime() < deadline && pause());
                assertThat(stored).as("predictions logged = predictions answered 200").isEqualTo(answeredPredictions.get());
                noBufferLeaked();
            }
        } finally {
            if (gateway != null) {
                gateway.stop();
            }
        }
    }

    /**
     * Netty reports a leaked buffer when it finds it collected, at a later allocation: so collect, then send a valid
     * request to every endpoint (twice over), and read the log.
     */
    private static void noBufferLeaked() throws Exception {
        for (int round = 0; round < 2; round++) {
            AppProcess.jcmd(gateway.pid(), "GC.run");
            for (Endpoint endpoint : endpoints()) {
                HttpResponse<String> answer = post(endpoint.path(), endpoint.body().getBytes(StandardCharsets.UTF_8));
                assertThat(answer.statusCode()).as(endpoint.path() + ": " + answer.body()).isEqualTo(200);
            }
        }
        assertThat(gateway.log().lines().filter(line -> line.contains("LEAK:")).toList())
                .as("buffers the gateway never released (Netty's leak detector, paranoid)").isEmpty();
    }

    private static boolean pause() throws InterruptedException {
        Thread.sleep(100);
        return true;
    }

    static List<Endpoint> endpoints() throws Exception {
        String regno = Files.readString(ROOT.resolve("deploy/local/sample-regno.json")).trim();
        String regnoOip = Files.readString(ROOT.resolve("load-tests/bench/regno-oip.json")).trim();
        return List.of(
                new Endpoint("/reg/", regno, false),
                new Endpoint("/v1/regno/predict", regno, false),
                new Endpoint("/v1/regno/predict/batch", "{\"instances\":[" + regno + "," + regno + "]}", false),
                new Endpoint("/v1/rentals/hostile-user/predict", "{\"features\":" + HOUR + "}", true),
                new Endpoint("/v1/rentals/hostile-user/predict/batch",
                        "{\"instances\":[{\"features\":" + HOUR + "},{\"features\":" + HOUR + "}]}", true),
                new Endpoint("/v1/rentals/actuals", "{\"actuals\":[{\"request_id\":\"01890a5d-ac96-774b-bcce-b302099a8057\","
                        + "\"actual_value\":12}]}", false),
                new Endpoint("/v2/models/regno/infer", regnoOip, false),
                new Endpoint("/v2/models/rentals/infer", "{\"parameters\":{\"user_id\":\"hostile-user\"},\"inputs\":"
                        + "[{\"name\":\"features\",\"shape\":[1,12],\"datatype\":\"FP32\",\"data\":"
                        + "[3,1,7,17,0,3,1,1,0.72,0.66,0.5,0.2]}]}", true));
    }

    @Provide
    Arbitrary<Endpoint> endpoint() throws Exception {
        return Arbitraries.of(endpoints());
    }

    /** What replaces one value of a valid body. */
    private static final List<String> HOSTILE_VALUES = List.of("NaN", "Infinity", "-Infinity", "1e999", "-1e999",
            "123456789012345678901234567890123456789", "0.0000000000000000000000000000001e-400", "null", "true", "[]",
            "{}", "\"\"", "\"" + "x".repeat(300_000) + "\"", "\"\\u0000\"", "\"\\ud800\"", "\"1e999\"",
            "[" + "1,".repeat(10_000) + "1]", "\"../../etc/passwd\"", "\"'; DROP TABLE rental_predictions; --\"");

    @Provide
    Arbitrary<byte[]> hostileBody() throws Exception {
        Arbitrary<String> valid = Arbitraries.of(endpoints()).map(Endpoint::body);
        Arbitrary<byte[]> truncated = Combinators.combine(valid, Arbitraries.doubles().between(0, 1))
                .as((body, at) -> body.substring(0, (int) (body.length() * at)).getBytes(StandardCharsets.UTF_8));
        Arbitrary<byte[]> replaced = Combinators.combine(valid, Arbitraries.of(HOSTILE_VALUES),
                        Arbitraries.integers().between(0, 40))
                .as(HostileInputTest::replaceValue);
        Arbitrary<byte[]> spliced = Combinators.combine(valid, Arbitraries.strings().ofMaxLength(20),
                        Arbitraries.doubles().between(0, 1))
                .as((body, junk, at) -> {
                    int i = (int) (body.length() * at);
                    return (body.substring(0, i) + junk + body.substring(i)).getBytes(StandardCharsets.UTF_8);
                });
        Arbitrary<byte[]> invalidUtf8 = Combinators.combine(valid, Arbitraries.doubles().between(0, 1))
                .as((body, at) -> {
                    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                    int i = (int) (bytes.length * at);
                    byte[] out = Arrays.copyOf(bytes, bytes.length + 2);
                    System.arraycopy(bytes, i, out, i + 2, bytes.length - i);
                    out[i] = (byte) 0xC3;
                    out[i + 1] = (byte) 0x28;
                    return out;
                });
        Arbitrary<byte[]> nested = Arbitraries.integers().between(100, 100_000)
                .map(depth -> ("[".repeat(depth) + "]".repeat(depth)).getBytes(StandardCharsets.UTF_8));
        Arbitrary<byte[]> unknownField = valid.map(body -> body.startsWith("{")
                ? ("{\"unexpected\":{\"deep\":[1,2,3]}," + body.substring(1)).getBytes(StandardCharsets.UTF_8)
                : body.getBytes(StandardCharsets.UTF_8));
        Arbitrary<byte[]> noise = Arbitraries.bytes().array(byte[].class).ofMaxSize(2_000);
        return Arbitraries.oneOf(truncated, replaced, spliced, invalidUtf8, nested, unknownField, noise);
    }

    /** The body with its {@code n}-th value (number, string, literal; cycling) replaced by {@code value}. */
    static byte[] replaceValue(String body, String value, int n) {
        var values = java.util.regex.Pattern.compile("(?<=[:\\[,])\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|-?[0-9.eE+-]+|true|false|null)")
                .matcher(body).results().toList();
        if (values.isEmpty()) {
            return body.getBytes(StandardCharsets.UTF_8);
        }
        var match = values.get(n % values.size());
        return (body.substring(0, match.start()) + value + body.substring(match.end())).getBytes(StandardCharsets.UTF_8);
    }

    @Property(tries = 400)
    void hostileBodiesGetA200OrA4xxInTheEnvelopeNeverA5xx(@ForAll("endpoint") Endpoint endpoint,
            @ForAll("hostileBody") byte[] body) throws Exception {
        HttpResponse<String> answer = post(endpoint.path(), body);
        assertAnsweredInTheEnvelope(endpoint.path(), answer);
        if (answer.statusCode() == 200 && endpoint.rentalsRows()) {
            answeredPredictions.addAndGet(rows(answer.body()));
        }
    }

    /** A batch endpoint and its body with {@code rows} rows: over the 256-row limit, sometimes over the 256 KB body limit. */
    static byte[] batch(String path, int rows) throws Exception {
        String regno = Files.readString(ROOT.resolve("deploy/local/sample-regno.json")).trim();
        return switch (path) {
            case "/v1/regno/predict/batch" -> ("{\"instances\":[" + String.join(",", java.util.Collections.nCopies(rows, regno))
                    + "]}").getBytes(StandardCharsets.UTF_8);
            case "/v1/rentals/hostile-user/predict/batch" -> ("{\"instances\":["
                    + String.join(",", java.util.Collections.nCopies(rows, "{\"features\":" + HOUR + "}")) + "]}")
                    .getBytes(StandardCharsets.UTF_8);
            default -> ("{\"parameters\":{\"user_id\":\"hostile-user\"},\"inputs\":[{\"name\":\"features\",\"shape\":["
                    + rows + ",12],\"datatype\":\"FP32\",\"data\":["
                    + String.join(",", java.util.Collections.nCopies(rows, "3,1,7,17,0,3,1,1,0.72,0.66,0.5,0.2")) + "]}]}")
                    .getBytes(StandardCharsets.UTF_8);
        };
    }

    @Property(tries = 30)
    void oversizedBatchesAreRefusedWholeInTheEnvelope(
            @ForAll("batchEndpoint") String path, @ForAll @IntRange(min = 257, max = 2_000) int rows) throws Exception {
        HttpResponse<String> answer = post(path, batch(path, rows));
        assertAnsweredInTheEnvelope(path, answer);
        assertThat(answer.statusCode()).as("%s with %d rows", path, rows).isIn(400, 413);
    }

    @Provide
    Arbitrary<String> batchEndpoint() {
        return Arbitraries.of("/v1/regno/predict/batch", "/v1/rentals/hostile-user/predict/batch",
                "/v2/models/rentals/infer");
    }

    @Provide
    Arbitrary<String> oddUserId() {
        return Arbitraries.oneOf(
                Arbitraries.of("../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f", "a'; DROP TABLE rental_models; --",
                        "a\"b", "a b", "%00", "%ZZ", "\u202Eevil", "ü", "a".repeat(65), "a".repeat(3_000), "-a", "a..b",
                        "a%2Fb", "COM1", "a;b", "a?b=c", "a#b", "%25", "alice", "Alice.Smith_1-2"),
                Arbitraries.strings().ofMinLength(1).ofMaxLength(80));
    }

    @Property(tries = 200)
    void oddUserIdsAreAnsweredOrRefusedNeverA5xx(@ForAll("oddUserId") String user) throws Exception {
        // As sent: raw characters the URI allows, everything else percent-encoded, so the server sees the odd id.
        String encoded = URLEncoder.encode(user, StandardCharsets.UTF_8).replace("+", "%20");
        String id = user.matches("[A-Za-z0-9._~%-]+") ? user : encoded;
        String path = "/v1/rentals/" + id + "/predict";
        HttpResponse<String> answer = post(path, ("{\"features\":" + HOUR + "}").getBytes(StandardCharsets.UTF_8));
        assertAnsweredInTheEnvelope(path, answer);
        if (answer.statusCode() == 200) {
            answeredPredictions.incrementAndGet();
        }
        // The same id on the read-only endpoints and on the admin operations.
        for (String read : List.of("/model", "/models", "/quality")) {
            assertAnsweredInTheEnvelope("/v1/rentals/" + id + read, send("GET", "/v1/rentals/" + id + read, null, false));
        }
        for (String operation : ADMIN_OPERATIONS) {
            String admin = "/v1/admin/rentals/" + id + operation;
            byte[] body = "{\"version\":1}".getBytes(StandardCharsets.UTF_8);
            assertAnsweredInTheEnvelope(admin, send("POST", admin, body, true));
        }
    }

    @Property(tries = 100)
    void hostileAdminBodiesAreRefusedInTheEnvelope(@ForAll("hostileBody") byte[] body,
            @ForAll("adminOperation") String operation) throws Exception {
        String admin = "/v1/admin/rentals/hostile-user" + operation;
        HttpResponse<String> answer = send("POST", admin, body, true);
        assertAnsweredInTheEnvelope(admin, answer);
        assertThat(answer.statusCode()).as("no version to serve: never a 200").isBetween(400, 499);
    }

    @Provide
    Arbitrary<String> adminOperation() {
        return Arbitraries.of(ADMIN_OPERATIONS);
    }

    private static HttpResponse<String> post(String path, byte[] body) throws Exception {
        return send("POST", path, body, false);
    }

    /** A request with the client key, or with the admin key for {@code admin}; a null body sends none. */
    private static HttpResponse<String> send(String method, String path, byte[] body, boolean admin) throws Exception {
        URI uri;
        try {
            uri = URI.create("http://127.0.0.1:" + port + path);
        } catch (IllegalArgumentException notAUri) {
            // A path java.net.URI itself refuses never reaches a server; send it percent-encoded instead.
            uri = URI.create("http://127.0.0.1:" + port
                    + URLEncoder.encode(path, StandardCharsets.UTF_8).replace("%2F", "/").replace("+", "%20"));
        }
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                .header(admin ? "x-admin-key" : "x-api-key", admin ? ADMIN_KEY : KEY)
                .header("content-type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static void assertAnsweredInTheEnvelope(String path, HttpResponse<String> answer) {
        int status = answer.statusCode();
        assertThat(status).as("%s answered %s: %s", path, status, abbreviated(answer.body()))
                .satisfiesAnyOf(s -> assertThat(s).isEqualTo(200), s -> assertThat(s).isBetween(400, 499));
        assertThat(answer.body()).as(path).doesNotContain("Exception").doesNotContain("\tat ");
        if (status >= 400) {
            JsonNode error = JSON.readTree(answer.body());
            String field = path.startsWith("/v2/") ? "error" : "message";
            assertThat(error.path(field).isString()).as("%s %s: %s", path, status, abbreviated(answer.body())).isTrue();
            assertThat(error.path(field).stringValue()).isNotBlank();
        }
    }

    /** Rows a 200 answer of a rentals endpoint carries (one prediction each). */
    private static long rows(String body) {
        JsonNode answer = JSON.readTree(body);
        if (answer.has("results")) {
            return answer.get("results").size();
        }
        if (answer.has("outputs")) {
            return answer.get("outputs").get(0).get("shape").get(0).asLong();
        }
        return 1;
    }

    private static String abbreviated(String body) {
        return body.length() <= 300 ? body : body.substring(0, 300) + "…";
    }
}

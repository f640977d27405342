package io.mlgateway.regno;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.mlgateway.grpc.GrpcServer;
import io.mlgateway.grpc.GrpcTestRequests;
import io.mlgateway.grpc.v2.GRPCInferenceServiceGrpc;
import io.mlgateway.grpc.v2.ModelInferResponse;
import io.mlgateway.grpc.v2.ServerLiveRequest;
import io.mlgateway.grpc.v2.ServerReadyRequest;
import io.mlgateway.scoring.ScoringExecutor;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.io.ClassPathResource;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Flux;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The regno API over real HTTP on a real Netty server, with the customer's 100 recognitions. One scoring thread
 * and one queue slot make overload reproducible.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0",
        "gateway.api.api-keys=sha256:1255558df586ae279007fffa27ec17451d1507f7ac5442add9ffbc070f9f623b, sha256:e25dcda7a7c513d31cb469727bd4283c8d975f1778fb1efab4e28d2a761fda01",
        "gateway.api.max-body-size=128KB",
        "gateway.regno.max-batch-size=100",
        "gateway.scoring.threads=1",
        "gateway.scoring.queue-capacity=1",
        "gateway.scoring.retry-after-seconds=2"})
class RegnoApiTest {

    private static final String KEY = "test-key-2";
    private static final JsonMapper json = JsonMapper.builder().build();
    private static RegnoModel reference;

    @LocalServerPort
    int port;
    @LocalManagementPort
    int managementPort;
    @Autowired
    ScoringExecutor scoringExecutor;
    @Autowired
    GrpcServer grpcServer;

    private WebTestClient api;

    @BeforeAll
    static void loadReferenceModel() throws Exception {
        // A second, independent load of the same file: what the HTTP path answers must equal scoring in-process.
        reference = RegnoModel.load(new ClassPathResource("models/regno/micromodel.cbm"));
    }

    @AfterAll
    static void freeReferenceModel() {
        reference.close();
    }

    @BeforeEach
    void client() {
        api = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(Duration.ofSeconds(20)).build();
    }

    private static ObjectNode body(Map<String, String> row) {
        return RegnoTestData.request(row);
    }

    private static RegnoPrediction inProcess(Map<String, String> row) {
        return reference.predict(List.of(RegnoFeatureRecipe.build(RegnoModelTest.fromCsv(row)))).get(0);
    }

    private WebTestClient.ResponseSpec post(String path, String body) {
        return api.post().uri(path).header("x-api-key", KEY).contentType(MediaType.APPLICATION_JSON).bodyValue(body).exchange();
    }

    private static JsonNode read(byte[] bytes) {
        return json.readTree(bytes);
    }

    private static void assertProbabilities(JsonNode node, RegnoPrediction expected) {
        double negative = node.get("negative").doubleValue();
        double positive = node.get("positive").doubleValue();
        assertThat(positive).isBetween(0.0, 1.0);
        assertThat(negative).isBetween(0.0, 1.0);
        assertThat(negative + positive).isCloseTo(1.0, within(1e-12));
        assertThat(positive).isEqualTo(expected.positive());
        assertThat(negative).isEqualTo(expected.negative());
    }

    @Test
    void legacyEndpointScoresAllHundredRowsLikeInProcessScoring() throws Exception {
        List<Map<String, String>> rows = RegnoTestData.rows();
        assertThat(rows).hasSize(100);
        for (int i = 0; i < rows.size(); i++) {
            Map<String, String> row = rows.get(i);
            ObjectNode body = body(row);
            String wire = switch (i % 3) {
                case 0 -> json.writeValueAsString(body);
                case 1 -> json.writeValueAsString(json.writeValueAsString(body)); // double-encoded, as some clients do
                default -> {
                    body.set("afts_regno_ai_char_scores", json.readTree(row.get("afts_regno_ai_char_scores")));
                    yield json.writeValueAsString(body);
                }
            };
            byte[] response = post("/reg/", wire).expectStatus().isOk()
                    .expectHeader().contentType(MediaType.APPLICATION_JSON)
                    .expectBody().returnResult().getResponseBody();
            JsonNode answer = read(response);
            assertThat(answer.get("status").stringValue()).isEqualTo("ok");
            assertThat(answer.properties()).hasSize(2);
            assertProbabilities(answer.get("body"), inProcess(row));
        }
    }

    /**
     * Two answers known from outside this code base, so the model, the feature recipe and the wire are checked
     * against the customer's own figures rather than against this server's in-process scoring: the customer's
     * notebook prints positive 0.56139271 (8 decimals) for test_data.csv row 5, and the customer's service document
     * shows {"negative": 0.9965305324728679, "positive": 0.0034694675271320754} for row 66 (rows counted from 0,
     * the header excluded).
     */
    @Test
    void legacyEndpointAnswersTheCustomersOwnFigures() throws Exception {
        List<Map<String, String>> rows = RegnoTestData.rows();
        JsonNode notebook = read(post("/reg/", json.writeValueAsString(body(rows.get(5)))).expectStatus().isOk()
                .expectBody().returnResult().getResponseBody()).get("body");
        assertThat(notebook.get("positive").doubleValue()).isCloseTo(0.56139271, within(5e-9));

        JsonNode document = read(post("/reg/", json.writeValueAsString(body(rows.get(66)))).expectStatus().isOk()
                .expectBody().returnResult().getResponseBody()).get("body");
        assertThat(document.get("negative").doubleValue()).isEqualTo(0.9965305324728679);
        assertThat(document.get("positive").doubleValue()).isEqualTo(0.0034694675271320754);
    }

    @Test
    void v1PredictAnswersProbabilitiesAndModelVersion() throws Exception {
        for (Map<String, String> row : RegnoTestData.rows()) {
            JsonNode answer = read(post("/v1/regno/predict", json.writeValueAsString(body(row)))
                    .expectStatus().isOk().expectBody().returnResult().getResponseBody());
            assertProbabilities(answer, inProcess(row));
            assertThat(answer.get("model_version").stringValue()).isEqualTo(reference.version());
        }
    }

    @Test
    void batchAnswersEveryInstanceInOrder() throws Exception {
        List<Map<String, String>> rows = RegnoTestData.rows();
        ObjectNode request = json.createObjectNode();
        ArrayNode instances = request.putArray("instances");
        rows.forEach(row -> instances.add(body(row)));
        JsonNode answer = read(post("/v1/regno/predict/batch", json.writeValueAsString(request))
                .expectStatus().isOk().expectBody().returnResult().getResponseBody());
        JsonNode results = answer.get("results");
        assertThat(results.size()).isEqualTo(100);
        for (int i = 0; i < rows.size(); i++) {
            assertProbabilities(results.get(i), inProcess(rows.get(i)));
        }
    }

    @Test
    void batchRejectsOversizedEmptyAndInvalidInstancesNamingThem() throws Exception {
        Map<String, String> row = RegnoTestData.rows().get(0);
        ObjectNode tooMany = json.createObjectNode();
        ArrayNode many = tooMany.putArray("instances");
        for (int i = 0; i < 101; i++) {
            many.add(json.createObjectNode().put("direction", 0));
        }
        expectFail(post("/v1/regno/predict/batch", json.writeValueAsString(tooMany)), HttpStatus.BAD_REQUEST, "instances");
        expectFail(post("/v1/regno/predict/batch", "{\"instances\":[]}"), HttpStatus.BAD_REQUEST, "instances");
        expectFail(post("/v1/regno/predict/batch", "{\"rows\":[]}"), HttpStatus.BAD_REQUEST, "instances");

        ObjectNode bad = body(row);
        bad.put("direction", 7);
        ObjectNode mixed = json.createObjectNode();
        mixed.putArray("instances").add(body(row)).add(bad);
        expectFail(post("/v1/regno/predict/batch", json.writeValueAsString(mixed)), HttpStatus.BAD_REQUEST,
                "instances[1].direction");
    }

    private static JsonNode expectFail(WebTestClient.ResponseSpec response, HttpStatus status, String field) {
        byte[] body = response.expectStatus().isEqualTo(status)
                .expectHeader().contentType(MediaType.APPLICATION_JSON)
                .expectBody().returnResult().getResponseBody();
        JsonNode error = read(body);
        assertThat(error.get("status").stringValue()).isEqualTo("fail");
        assertThat(error.get("message").stringValue()).isNotBlank().doesNotContain("Exception").doesNotContain("at io.");
        if (field != null) {
            assertThat(error.get("field").stringValue()).isEqualTo(field);
            assertThat(error.get("message").stringValue()).contains(field);
        }
        return error;
    }

    @Test
    void missingOrWrongKeyIs401() throws Exception {
        String body = json.writeValueAsString(body(RegnoTestData.rows().get(0)));
        expectFail(api.post().uri("/reg/").contentType(MediaType.APPLICATION_JSON).bodyValue(body).exchange(),
                HttpStatus.UNAUTHORIZED, "x-api-key");
        expectFail(api.post().uri("/v1/regno/predict").header("x-api-key", "test-key-3")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body).exchange(), HttpStatus.UNAUTHORIZED, "x-api-key");
        // Every configured key is accepted.
        api.post().uri("/reg/").header("x-api-key", "test-key-1").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(body).exchange().expectStatus().isOk();
    }

    @Test
    void malformedJsonAndBadFieldsAre400NamingTheField() throws Exception {
        expectFail(post("/reg/", "{\"regno_recognize\": "), HttpStatus.BAD_REQUEST, null);
        expectFail(post("/reg/", "[]"), HttpStatus.BAD_REQUEST, null);
        ObjectNode missing = body(RegnoTestData.rows().get(0));
        missing.remove("camera_class");
        expectFail(post("/reg/", json.writeValueAsString(missing)), HttpStatus.BAD_REQUEST, "camera_class");
        ObjectNode invalid = body(RegnoTestData.rows().get(0));
        invalid.put("time_check", "yesterday");
        expectFail(post("/v1/regno/predict", json.writeValueAsString(invalid)), HttpStatus.BAD_REQUEST, "time_check");
        expectFail(api.post().uri("/reg/").header("x-api-key", KEY).contentType(MediaType.APPLICATION_JSON).exchange(),
                HttpStatus.BAD_REQUEST, null);
    }

    @Test
    void oversizedBodyIs413WithOrWithoutContentLength() {
        String big = "{\"regno_recognize\":\"" + "А".repeat(80_000) + "\"}"; // > 128 KB in UTF-8
        expectFail(post("/reg/", big), HttpStatus.CONTENT_TOO_LARGE, null);
        Flux<String> chunked = Flux.range(0, 200).map(i -> i == 0 ? "{\"x\":\"" : "y".repeat(1000));
        expectFail(api.post().uri("/v1/regno/predict").header("x-api-key", KEY).contentType(MediaType.APPLICATION_JSON)
                .body(chunked, String.class).exchange(), HttpStatus.CONTENT_TOO_LARGE, null);
    }

    @Test
    void wrongContentTypeIs415WrongMethodIs405UnknownPathIs404() {
        expectFail(api.post().uri("/reg/").header("x-api-key", KEY).contentType(MediaType.TEXT_PLAIN).bodyValue("{}")
                .exchange(), HttpStatus.UNSUPPORTED_MEDIA_TYPE, null);
        expectFail(api.post().uri("/v1/regno/predict").header("x-api-key", KEY).bodyValue(new byte[] {1}).exchange(),
                HttpStatus.UNSUPPORTED_MEDIA_TYPE, null);
        expectFail(api.get().uri("/reg/").header("x-api-key", KEY).exchange(), HttpStatus.METHOD_NOT_ALLOWED, null);
        expectFail(api.put().uri("/v1/regno/predict").header("x-api-key", KEY).contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{}").exchange(), HttpStatus.METHOD_NOT_ALLOWED, null);
        expectFail(api.post().uri("/v1/nothing").header("x-api-key", KEY).contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{}").exchange(), HttpStatus.NOT_FOUND, null);
        expectFail(api.get().uri("/actuator/health").exchange(), HttpStatus.NOT_FOUND, null);
    }

    @Test
    void fullScoringQueueIs503WithRetryAfter() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch running = new CountDownLatch(1);
        // Occupy the only scoring thread, then the only queue slot.
        scoringExecutor.submit("test", () -> {
            running.countDown();
            return release.await(20, TimeUnit.SECONDS);
        }).subscribe();
        assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
        scoringExecutor.submit("test", () -> true).subscribe();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcServer.port()).usePlaintext().build();
        try {
            String body = json.writeValueAsString(body(RegnoTestData.rows().get(0)));
            expectFail(post("/reg/", body).expectHeader().valueEquals(HttpHeaders.RETRY_AFTER, "2"),
                    HttpStatus.SERVICE_UNAVAILABLE, null);
            expectFail(post("/v1/regno/predict", body).expectHeader().valueEquals(HttpHeaders.RETRY_AFTER, "2"),
                    HttpStatus.SERVICE_UNAVAILABLE, null);
            // The gRPC half sheds the same way: UNAVAILABLE, the same message, Retry-After as a trailer.
            StatusRuntimeException shed = catchThrowableOfType(StatusRuntimeException.class, () ->
                    grpc(channel).modelInfer(GrpcTestRequests.regno(List.of(RegnoTestData.rows().get(0)), false).build()));
            assertThat(shed.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(shed.getStatus().getDescription()).isEqualTo("scoring capacity exhausted, retry later");
            assertThat(shed.getTrailers().get(Metadata.Key.of("retry-after", Metadata.ASCII_STRING_MARSHALLER)))
                    .isEqualTo("2");
        } finally {
            release.countDown();
        }
        try {
            ModelInferResponse answer = grpc(channel).modelInfer(GrpcTestRequests.regno(List.of(RegnoTestData.rows().get(1)), false).build());
            assertThat(answer.getOutputsList()).extracting(ModelInferResponse.InferOutputTensor::getName)
                    .containsExactly("negative", "positive");
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        // Capacity comes back once the pool drains.
        String body = json.writeValueAsString(body(RegnoTestData.rows().get(1)));
        post("/reg/", body).expectStatus().isOk();
    }

    @Test
    void managementPortServesHealthAndPrometheusWithoutKey() throws Exception {
        post("/reg/", json.writeValueAsString(body(RegnoTestData.rows().get(0)))).expectStatus().isOk();
        WebTestClient management = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + managementPort).build();
        management.get().uri("/actuator/health/liveness").exchange().expectStatus().isOk();
        // Regno answers, but rentals cannot score (this test gives it no database): not ready for a balancer.
        management.get().uri("/actuator/health/readiness").exchange().expectStatus().isEqualTo(503)
                .expectBody().jsonPath("$.components.rentals.status").isEqualTo("DOWN")
                .jsonPath("$.components.rentals.details.phase").isEqualTo("starting");
        String metrics = new String(management.get().uri("/actuator/prometheus").exchange().expectStatus().isOk()
                .expectBody().returnResult().getResponseBody(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(metrics).containsPattern("http_server_requests_seconds_count\\{[^}]*uri=\"/reg/\"[^}]*\\} [1-9]");
        assertThat(metrics).containsPattern("http_server_requests_seconds_bucket\\{[^}]*uri=\"/reg/\"");
        assertThat(metrics).containsPattern("gateway_scoring_latency_seconds_count\\{[^}]*model=\"regno\"[^}]*\\} [1-9]");
        assertThat(metrics).contains("gateway_scoring_queue_depth");

        // The gRPC half's readiness says the same: not ready, and gRPC health NOT_SERVING, while rentals cannot
        // score; live all the same.
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcServer.port()).usePlaintext().build();
        try {
            GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub = grpc(channel);
            assertThat(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
            assertThat(stub.serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isFalse();
            assertThat(HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance()).getStatus())
                    .isEqualTo(HealthCheckResponse.ServingStatus.NOT_SERVING);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub grpc(ManagedChannel channel) {
        return GrpcTestRequests.withMetadata(GRPCInferenceServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(20, TimeUnit.SECONDS), "x-api-key", KEY);
    }

}

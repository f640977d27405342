package io.mlgateway.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.mlgateway.grpc.v2.GRPCInferenceServiceGrpc;
import io.mlgateway.grpc.v2.InferTensorContents;
import io.mlgateway.grpc.v2.ModelInferRequest;
import io.mlgateway.grpc.v2.ModelInferResponse;
import io.mlgateway.grpc.v2.ModelMetadataRequest;
import io.mlgateway.grpc.v2.ModelMetadataResponse;
import io.mlgateway.grpc.v2.ModelReadyRequest;
import io.mlgateway.grpc.v2.ServerLiveRequest;
import io.mlgateway.grpc.v2.ServerMetadataRequest;
import io.mlgateway.grpc.v2.ServerReadyRequest;
import io.mlgateway.regno.RegnoTestData;
import io.mlgateway.rentals.RentalsTestSupport;
import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.testing.KeyHashes;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.training.BikeSharingData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The protocol's gRPC half over a real HTTP/2 connection, on the real PostgreSQL, Redis and Kafka: every RPC, the
 * key in metadata, both tensor encodings, and each error as its status code with the REST half's message. Answers
 * are compared with the REST half's for the same rows (one data plane behind both), and a forecast made over gRPC
 * must be in the inference log under the request id it answered.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0", "gateway.rentals.startup-retry=500ms"})
class GrpcInferenceTest {

    static final String KEY = "grpc-test-key";
    private static final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static List<BikeSharingData.Hour> hours;
    private static List<Map<String, String>> regnoRows;

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        db.springProperties().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("gateway.api.api-keys", () -> KeyHashes.sha256(KEY));
    }

    @LocalServerPort
    int httpPort;
    @Autowired
    GrpcServer server;

    private ManagedChannel channel;
    private GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub anonymous;
    private GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub client;
    private WebTestClient rest;

    @BeforeAll
    static void data() throws Exception {
        hours = BikeSharingData.load();
        regnoRows = RegnoTestData.rows();
    }

    @BeforeEach
    void connect() throws Exception {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        anonymous = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        client = GrpcTestRequests.withMetadata(anonymous, "x-api-key", KEY);
        rest = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + httpPort)
                .responseTimeout(Duration.ofSeconds(30)).build();
        RentalsTestSupport.await("ServerReady", Duration.ofSeconds(90),
                () -> anonymous.serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
    }

    @AfterEach
    void disconnect() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void livenessReadinessAndHealthNeedNoKeyAndEverythingElseDoes() {
        assertThat(anonymous.serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
        assertThat(anonymous.serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
        for (String service : List.of("", "inference.GRPCInferenceService")) {
            assertThat(health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus())
                    .as("health of '%s'", service).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        }

        StatusRuntimeException missing = refused(() -> anonymous.serverMetadata(
                ServerMetadataRequest.getDefaultInstance()));
        assertThat(missing.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(missing.getStatus().getDescription()).isEqualTo("missing x-api-key header");
        StatusRuntimeException wrong = refused(() -> GrpcTestRequests.withMetadata(anonymous, "x-api-key", "not-a-key")
                .modelInfer(GrpcTestRequests.rentalsTyped("u", hours.subList(0, 1))));
        assertThat(wrong.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(wrong.getStatus().getDescription()).isEqualTo("invalid x-api-key");
        assertThat(wrong.getTrailers().get(GrpcStatuses.FIELD)).isEqualTo("x-api-key");
    }

    @Test
    void serverAndModelMetadataAreTheRestHalfs() {
        var server = client.serverMetadata(ServerMetadataRequest.getDefaultInstance());
        JsonNode restServer = get("/v2");
        assertThat(server.getName()).isEqualTo(restServer.get("name").stringValue());
        assertThat(server.getVersion()).isEqualTo(restServer.get("version").stringValue());
        // GET /v2 names the service the generated stubs serve: the .proto and DataPlane.GRPC_SERVICE agree.
        assertThat(restServer.get("grpc").get("service").stringValue())
                .isEqualTo(GRPCInferenceServiceGrpc.SERVICE_NAME);

        for (String model : List.of("regno", "rentals")) {
            ModelMetadataResponse metadata = client.modelMetadata(ModelMetadataRequest.newBuilder().setName(model)
                    .build());
            JsonNode restModel = get("/v2/models/" + model);
            assertThat(metadata.getName()).isEqualTo(model);
            assertThat(metadata.getPlatform()).isEqualTo(restModel.get("platform").stringValue());
            assertThat(metadata.getVersionsList()).containsExactlyElementsOf(
                    restModel.get("versions").valueStream().map(JsonNode::stringValue).toList());
            assertThat(tensors(metadata.getInputsList())).isEqualTo(tensors(restModel.get("inputs")));
            assertThat(tensors(metadata.getOutputsList())).isEqualTo(tensors(restModel.get("outputs")));
            assertThat(client.modelReady(ModelReadyRequest.newBuilder().setName(model).build()).getReady()).isTrue();
        }

        StatusRuntimeException unknown = refused(() -> client.modelMetadata(ModelMetadataRequest.newBuilder()
                .setName("nope").build()));
        assertThat(unknown.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(unknown.getStatus().getDescription()).isEqualTo(restError("GET", "/v2/models/nope", null));
        StatusRuntimeException noVersion = refused(() -> client.modelReady(ModelReadyRequest.newBuilder()
                .setName("rentals").setVersion("999999999").build()));
        assertThat(noVersion.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(noVersion.getStatus().getDescription())
                .isEqualTo(restError("GET", "/v2/models/rentals/versions/999999999/ready", null));
    }

    @Test
    void regnoAnswersWhatTheRestHalfAnswersTypedAndRaw() {
        List<Map<String, String>> rows = regnoRows.subList(0, 8);
        JsonNode expected = post("/v2/models/regno/infer", regnoJson(rows));
        for (boolean raw : List.of(false, true)) {
            ModelInferResponse answer = client.modelInfer(GrpcTestRequests.regno(rows, raw).setId("regno-" + raw).build());
            assertThat(answer.getModelName()).isEqualTo("regno");
            assertThat(answer.getId()).isEqualTo("regno-" + raw);
            assertThat(answer.getModelVersion()).isEqualTo(expected.get("model_version").stringValue());
            for (String output : List.of("negative", "positive")) {
                assertThat(doubles(answer, output)).as("%s (raw %s)", output, raw)
                        .containsExactly(restOutput(expected, output));
            }
        }
    }

    @Test
    void aRentalsForecastOverGrpcIsTheRestForecastAndIsLoggedUnderItsRequestId() throws Exception {
        String user = "grpc-" + UUID.randomUUID().toString().substring(0, 8);
        List<BikeSharingData.Hour> rows = hours.subList(5_000, 5_064);
        JsonNode expected = post("/v2/models/rentals/infer", rentalsJson(user, rows));

        ModelInferResponse one = client.modelInfer(GrpcTestRequests.rentalsTyped(user, rows.subList(0, 1)));
        assertThat(one.getParametersMap().get("user_id").getStringParam()).isEqualTo(user);
        assertThat(one.getModelVersion()).isEqualTo(expected.get("model_version").stringValue());
        assertThat(one.getId()).isNotEmpty();
        assertThat(floats(one, "predictions")).containsExactly((float) restOutput(expected, "predictions")[0]);

        ModelInferResponse many = GrpcTestRequests.withMetadata(client, "x-user-id", user).modelInfer(GrpcTestRequests.rentalsRaw(user, rows));
        assertThat(many.getRawOutputContentsCount()).as("raw in, raw out").isEqualTo(many.getOutputsCount());
        double[] restPredictions = restOutput(expected, "predictions");
        float[] predictions = floats(many, "predictions");
        assertThat(predictions).hasSize(64);
        for (int i = 0; i < 64; i++) {
            assertThat(predictions[i]).isEqualTo((float) restPredictions[i]);
        }
        List<String> requestIds = strings(many, "request_id");
        assertThat(requestIds).hasSize(64).doesNotHaveDuplicates();
        String last = requestIds.get(63);
        RentalsTestSupport.await("prediction " + last + " logged", Duration.ofSeconds(20),
                () -> db.count("SELECT count(*) FROM rental_predictions WHERE request_id = '" + last + "'") == 1);
        assertThat(db.count("SELECT count(*) FROM rental_predictions WHERE user_id = '" + user + "'"))
                .as("every row logged: 64 REST + 1 + 64 gRPC").isEqualTo(129);
    }

    @Test
    void badInputIsInvalidArgumentWithTheRestHalfsMessage() {
        String user = "grpc-bad";
        List<BikeSharingData.Hour> rows = hours.subList(0, 2);
        ModelInferRequest noUser = GrpcTestRequests.rentalsTyped(user, rows).toBuilder().clearParameters().build();
        ObjectNode restNoUser = rentalsJson(user, rows);
        restNoUser.remove("parameters");
        assertInvalid(noUser, restError("POST", "/v2/models/rentals/infer", restNoUser));

        ModelInferRequest.Builder wrongShape = GrpcTestRequests.rentalsTyped(user, rows).toBuilder();
        wrongShape.getInputsBuilder(0).clearShape().addShape(2).addShape(11);
        StatusRuntimeException shape = invalid(wrongShape.build());
        assertThat(shape.getStatus().getDescription()).isEqualTo("input 'features': shape [2, 11] holds 22 elements,"
                + " contents.fp32_contents has 24");

        ModelInferRequest.Builder wrongField = GrpcTestRequests.rentalsTyped(user, rows).toBuilder();
        wrongField.getInputsBuilder(0).setContents(InferTensorContents.newBuilder().addAllFp64Contents(
                List.of(1.0, 2.0)));
        assertThat(invalid(wrongField.build()).getStatus().getDescription())
                .isEqualTo("input 'features': datatype FP32 takes its elements in contents.fp32_contents");

        ModelInferRequest.Builder shortRaw = GrpcTestRequests.rentalsRaw(user, rows).toBuilder();
        shortRaw.setRawInputContents(0, shortRaw.getRawInputContents(0).substring(4));
        assertThat(invalid(shortRaw.build()).getStatus().getDescription())
                .isEqualTo("input 'features': shape [2, 12] of FP32 takes 96 bytes, raw_input_contents[0] has 92");

        StatusRuntimeException misrouted = refused(() -> GrpcTestRequests.withMetadata(client, "x-user-id", "someone-else")
                .modelInfer(GrpcTestRequests.rentalsTyped(user, rows)));
        assertThat(misrouted.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(misrouted.getStatus().getDescription()).isEqualTo("header 'x-user-id' names user 'someone-else'"
                + " but the request's parameter 'user_id' is 'grpc-bad'");
        assertThat(misrouted.getTrailers().get(GrpcStatuses.FIELD)).isEqualTo("x-user-id");

        ModelInferRequest unknownOutput = GrpcTestRequests.rentalsTyped(user, rows).toBuilder().addOutputs(
                ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("nope")).build();
        assertThat(invalid(unknownOutput).getStatus().getDescription()).startsWith("output 'nope' is not an output");

        StatusRuntimeException noModel = refused(() -> client.modelInfer(GrpcTestRequests.rentalsTyped(user, rows).toBuilder()
                .setModelName("nope").build()));
        assertThat(noModel.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    }

    /**
     * A client from outside the Java toolchain: Python stubs generated at run time from the same .proto by Debian's
     * grpc_tools, calling with grpcio. It must get what the REST half answers for the same rows.
     */
    @Test
    void anOutsideClientCompiledFromTheProtoByAnotherToolchainGetsTheRestHalfsAnswers() throws Exception {
        String user = "python-" + UUID.randomUUID().toString().substring(0, 8);
        List<BikeSharingData.Hour> rows = hours.subList(7_000, 7_004);
        double[] expected = restOutput(post("/v2/models/rentals/infer", rentalsJson(user, rows)), "predictions");
        ObjectNode input = JSON.createObjectNode().put("user", user);
        ArrayNode data = input.putArray("rows");
        rows.forEach(hour -> {
            ArrayNode row = data.addArray();
            for (float value : hour.features()) {
                row.add(value);
            }
        });
        Path errors = Files.createTempFile("python-grpc-client", ".log");
        Process client = new ProcessBuilder("bash", "src/test/python/run-client.sh",
                "src/main/proto/grpc_predict_v2.proto", "127.0.0.1:" + server.port(), KEY)
                .redirectError(errors.toFile()).start();
        try (var stdin = client.getOutputStream()) {
            stdin.write(JSON.writeValueAsBytes(input));
        }
        String output = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(client.waitFor(300, TimeUnit.SECONDS)).as("the Python client finished").isTrue();
        assertThat(client.exitValue()).as("python client:%n%s", Files.readString(errors)).isZero();
        JsonNode results = JSON.readTree(output);

        assertThat(results.get("live").booleanValue()).isTrue();
        assertThat(results.get("ready").booleanValue()).isTrue();
        assertThat(results.get("rentals_ready").booleanValue()).isTrue();
        assertThat(results.get("server").get("name").stringValue()).isEqualTo(get("/v2").get("name").stringValue());
        assertThat(results.get("rentals_inputs").toString()).isEqualTo("[[\"features\",\"FP32\",[-1,12]]]");
        for (String encoding : List.of("typed", "raw")) {
            JsonNode answer = results.get(encoding);
            assertThat(answer.get("id").stringValue()).isEqualTo("python-" + encoding);
            JsonNode predictions = answer.get("outputs").get("predictions");
            assertThat(predictions.size()).isEqualTo(rows.size());
            for (int i = 0; i < rows.size(); i++) {
                assertThat((float) predictions.get(i).doubleValue()).as("%s row %d", encoding, i)
                        .isEqualTo((float) expected[i]);
            }
            assertThat(answer.get("outputs").get("request_id").size()).isEqualTo(rows.size());
        }
        assertThat(results.get("raw").get("raw_outputs").intValue()).isEqualTo(2);
        assertThat(results.get("no_key").get("code").stringValue()).isEqualTo("UNAUTHENTICATED");
        assertThat(results.get("no_key").get("details").stringValue()).isEqualTo("missing x-api-key header");
        assertThat(results.get("no_user").get("code").stringValue()).isEqualTo("INVALID_ARGUMENT");
        assertThat(results.get("no_user").get("details").stringValue()).startsWith("parameter 'user_id' is required");
        assertThat(results.get("no_model").get("code").stringValue()).isEqualTo("NOT_FOUND");
    }

    private void assertInvalid(ModelInferRequest request, String message) {
        assertThat(invalid(request).getStatus().getDescription()).isEqualTo(message);
    }

    private StatusRuntimeException invalid(ModelInferRequest request) {
        StatusRuntimeException e = refused(() -> client.modelInfer(request));
        assertThat(e.getStatus().getCode()).as("%s", e.getStatus()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        return e;
    }

    private static StatusRuntimeException refused(Runnable call) {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
        assertThat(e).as("the call fails").isNotNull();
        return e;
    }

    // --- the requests, built from the same rows as the REST ones ---

    private static String regnoJson(List<Map<String, String>> rows) {
        ObjectNode request = JSON.createObjectNode();
        ArrayNode inputs = request.putArray("inputs");
        for (String name : GrpcTestRequests.REGNO_INPUTS) {
            String datatype = GrpcTestRequests.regnoDatatype(name);
            ObjectNode tensor = inputs.addObject().put("name", name).put("datatype", datatype);
            tensor.putArray("shape").add(rows.size());
            ArrayNode data = tensor.putArray("data");
            for (Map<String, String> row : rows) {
                switch (datatype) {
                    case "FP64" -> data.add(Double.parseDouble(row.get(name)));
                    case "INT64" -> data.add(Long.parseLong(row.get(name)));
                    default -> data.add(row.get(name));
                }
            }
        }
        return JSON.writeValueAsString(request);
    }

    private static ObjectNode rentalsJson(String user, List<BikeSharingData.Hour> rows) {
        ObjectNode request = JSON.createObjectNode();
        request.putObject("parameters").put("user_id", user);
        ObjectNode tensor = request.putArray("inputs").addObject().put("name", "features").put("datatype", "FP32");
        tensor.putArray("shape").add(rows.size()).add(RentalFeatures.COUNT);
        ArrayNode data = tensor.putArray("data");
        rows.forEach(hour -> {
            for (float value : hour.features()) {
                data.add(value);
            }
        });
        return request;
    }

    // --- reading answers ---

    private JsonNode get(String path) {
        return JSON.readTree(rest.get().uri(path).header("x-api-key", KEY).exchange().expectStatus().isOk()
                .expectBody().returnResult().getResponseBody());
    }

    private JsonNode post(String path, Object body) {
        String json = body instanceof String text ? text : JSON.writeValueAsString(body);
        return JSON.readTree(rest.post().uri(path).header("x-api-key", KEY).contentType(MediaType.APPLICATION_JSON)
                .bodyValue(json).exchange().expectStatus().isOk().expectBody().returnResult().getResponseBody());
    }

    /** The message the REST half answers for the same request, from its {"error": …} envelope. */
    private String restError(String method, String path, ObjectNode body) {
        WebTestClient.RequestBodySpec spec = rest.method(org.springframework.http.HttpMethod.valueOf(method)).uri(path)
                .header("x-api-key", KEY);
        WebTestClient.ResponseSpec response = body == null ? spec.exchange()
                : spec.contentType(MediaType.APPLICATION_JSON).bodyValue(JSON.writeValueAsString(body)).exchange();
        byte[] bytes = response.expectStatus().is4xxClientError().expectBody().returnResult().getResponseBody();
        return JSON.readTree(bytes).get("error").stringValue();
    }

    private static double[] restOutput(JsonNode response, String name) {
        for (JsonNode output : response.get("outputs")) {
            if (output.get("name").stringValue().equals(name)) {
                return output.get("data").valueStream().mapToDouble(JsonNode::doubleValue).toArray();
            }
        }
        throw new AssertionError("no output " + name + " in " + response);
    }

    private static int output(ModelInferResponse response, String name) {
        for (int i = 0; i < response.getOutputsCount(); i++) {
            if (response.getOutputs(i).getName().equals(name)) {
                return i;
            }
        }
        throw new AssertionError("no output " + name + " in " + response);
    }

    private static double[] doubles(ModelInferResponse response, String name) {
        int i = output(response, name);
        assertThat(response.getOutputs(i).getDatatype()).isEqualTo("FP64");
        if (response.getRawOutputContentsCount() == 0) {
            return response.getOutputs(i).getContents().getFp64ContentsList().stream().mapToDouble(Double::doubleValue)
                    .toArray();
        }
        ByteBuffer raw = response.getRawOutputContents(i).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        double[] values = new double[raw.remaining() / 8];
        raw.asDoubleBuffer().get(values);
        return values;
    }

    private static float[] floats(ModelInferResponse response, String name) {
        int i = output(response, name);
        assertThat(response.getOutputs(i).getDatatype()).isEqualTo("FP32");
        if (response.getRawOutputContentsCount() == 0) {
            List<Float> list = response.getOutputs(i).getContents().getFp32ContentsList();
            float[] values = new float[list.size()];
            for (int j = 0; j < values.length; j++) {
                values[j] = list.get(j);
            }
            return values;
        }
        ByteBuffer raw = response.getRawOutputContents(i).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        float[] values = new float[raw.remaining() / 4];
        raw.asFloatBuffer().get(values);
        return values;
    }

    private static List<String> strings(ModelInferResponse response, String name) {
        int i = output(response, name);
        if (response.getRawOutputContentsCount() == 0) {
            return response.getOutputs(i).getContents().getBytesContentsList().stream().map(ByteString::toStringUtf8)
                    .toList();
        }
        ByteBuffer raw = response.getRawOutputContents(i).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        List<String> values = new ArrayList<>();
        while (raw.hasRemaining()) {
            byte[] element = new byte[raw.getInt()];
            raw.get(element);
            values.add(new String(element, java.nio.charset.StandardCharsets.UTF_8));
        }
        return values;
    }

    private static List<String> tensors(List<ModelMetadataResponse.TensorMetadata> tensors) {
        return tensors.stream().map(t -> t.getName() + " " + t.getDatatype() + " " + t.getShapeList()).toList();
    }

    private static List<String> tensors(JsonNode tensors) {
        return tensors.valueStream().map(t -> t.get("name").stringValue() + " " + t.get("datatype").stringValue() + " "
                + t.get("shape").valueStream().map(JsonNode::longValue).toList()).toList();
    }
}

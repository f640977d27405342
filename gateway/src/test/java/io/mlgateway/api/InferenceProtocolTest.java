package io.mlgateway.api;

import static io.mlgateway.rentals.RentalsTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.mlgateway.regno.RegnoModel;
import io.mlgateway.regno.RegnoTestData;
import io.mlgateway.rentals.RentalsReadiness;
import io.mlgateway.rentals.RentalsTestSupport;
import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.TestModels;
import io.mlgateway.shared.training.BikeSharingData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.io.ClassPathResource;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The Open Inference Protocol (v2 REST, KServe's flavour) over real HTTP, for both models, on the real PostgreSQL,
 * Redis and Kafka: health, server and model metadata, model readiness, and inference with its errors. Written from
 * issue 15's wire contract and the OIP REST specification (KServe practice where they differ: 404 for an unknown
 * model or version), not from the implementation. The batch limits are small so that "more rows than allowed" is
 * cheap to send.
 *
 * <p>The request builders and readers at the bottom are shared with {@link ProtocolEquivalenceTest}.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0",
        "gateway.api.api-keys=" + InferenceProtocolTest.KEY_HASH,
        "gateway.regno.max-batch-size=" + InferenceProtocolTest.REGNO_MAX_BATCH,
        "gateway.rentals.max-batch-size=" + InferenceProtocolTest.RENTALS_MAX_BATCH})
class InferenceProtocolTest {

    /**
     * How far a rentals prediction may be from its explanation's sum. The prediction is XGBoost's float32 sum over
     * ~200 trees, which is up to ~3.4e-4 away from the model's exact output on these models (xgboost4j's own
     * predictContrib misses its predict by as much); the contributions add up to the exact output within 1e-9
     * (TreeShapTest), so what remains here is the prediction's own rounding.
     */
    static final double FLOAT32_SUM_ROUNDING = 5e-4;


    static final String KEY = "oip-test-key";
    static final String KEY_HASH = "sha256:b51226a80ae439346ba700076c7006a0e39e1c502c17f03bf28012aade180ec6"; // of KEY
    static final int REGNO_MAX_BATCH = 4;
    static final int RENTALS_MAX_BATCH = 8;
    static final JsonMapper JSON = JsonMapper.builder().build();

    @org.springframework.beans.factory.annotation.Value("${gateway.grpc.port}")
    int grpcPort;

    /** The ten regno inputs in the order of the wire contract's table (and of test_data.csv's columns). */
    static final List<String> REGNO_INPUTS = List.of("regno_recognize", "afts_regno_ai", "recognition_accuracy",
            "afts_regno_ai_score", "afts_regno_ai_char_scores", "afts_regno_ai_length_scores", "camera_type",
            "camera_class", "time_check", "direction");

    private static final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private static List<BikeSharingData.Hour> hours;
    private static List<Map<String, String>> regnoRows;
    private static String regnoVersion;

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        serviceProperties(registry, db);
    }

    @LocalServerPort
    int port;
    @Autowired
    RentalsReadiness readiness;
    @Autowired
    ModelRegistry registry;

    private Client api;

    @BeforeAll
    static void data() throws IOException {
        hours = BikeSharingData.load();
        regnoRows = regnoRows();
        // The model file the gateway serves, loaded on its own: its version is what v2 must name.
        try (RegnoModel model = RegnoModel.load(new ClassPathResource("models/regno/micromodel.cbm"))) {
            regnoVersion = model.version();
        }
    }

    @BeforeEach
    void ready() {
        api = new Client(port);
        await("rentals readiness (migrations + base model)", Duration.ofSeconds(90), readiness::isReady);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Health and server metadata
    // ---------------------------------------------------------------------------------------------------------

    @Test
    void liveAndReadyProbesAnswerWithoutAKey() {
        assertThat(api.okWithoutKey("/v2/health/live")).isEqualTo(JSON.readTree("{\"live\":true}"));
        assertThat(api.okWithoutKey("/v2/health/ready")).isEqualTo(JSON.readTree("{\"ready\":true}"));
    }

    @Test
    void serverMetadataNamesTheServerAndItsVersionAndNeedsTheKey() throws IOException {
        JsonNode server = api.ok(api.get("/v2"));
        assertThat(server.propertyNames()).containsExactlyInAnyOrder("name", "version", "extensions", "grpc");
        // Where the protocol's gRPC half answers: the configured port (the tests' configuration picks a free one).
        assertThat(server.get("grpc").get("service").stringValue()).isEqualTo("inference.GRPCInferenceService");
        assertThat(server.get("grpc").get("port").intValue()).isEqualTo(grpcPort);
        assertThat(server.get("name").stringValue()).isEqualTo("ml-inference-gateway");
        assertThat(server.get("version").stringValue()).isEqualTo(projectVersion());
        assertThat(server.get("extensions").isArray()).isTrue();
        assertThat(server.get("extensions").size()).isZero();

        error(api.client().get().uri("/v2").exchange(), HttpStatus.UNAUTHORIZED);
        error(api.client().get().uri("/v2").header("x-api-key", "not-" + KEY).exchange(), HttpStatus.UNAUTHORIZED);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Model metadata and readiness
    // ---------------------------------------------------------------------------------------------------------

    @Test
    void regnoMetadataListsItsTenInputsAndTwoOutputs() {
        JsonNode metadata = api.ok(api.get("/v2/models/regno"));
        assertThat(metadata.get("name").stringValue()).isEqualTo("regno");
        assertThat(metadata.get("platform").stringValue()).isEqualTo("catboost_cbm");
        assertThat(strings(metadata.get("versions"))).containsExactly(regnoVersion);
        assertThat(regnoVersion).matches("regno-[0-9a-f]{12}");

        Map<String, String> inputs = tensors(metadata.get("inputs"));
        Map<String, String> expected = new LinkedHashMap<>();
        for (String name : REGNO_INPUTS) {
            expected.put(name, regnoDatatype(name) + " [-1]");
        }
        assertThat(inputs).containsExactlyInAnyOrderEntriesOf(expected);
        assertThat(tensors(metadata.get("outputs")))
                .containsExactlyInAnyOrderEntriesOf(Map.of("negative", "FP64 [-1]", "positive", "FP64 [-1]"));

        String version = metadata.get("versions").get(0).stringValue();
        assertThat(api.ok(api.get("/v2/models/regno/versions/" + version))).isEqualTo(metadata);
    }

    @Test
    void rentalsMetadataListsTheFeatureMatrixAndItsOutputs() {
        ModelRecord base = baseModel();
        JsonNode metadata = api.ok(api.get("/v2/models/rentals"));
        assertThat(metadata.get("name").stringValue()).isEqualTo("rentals");
        assertThat(metadata.get("platform").stringValue()).isEqualTo("xgboost_trees");
        assertThat(strings(metadata.get("versions"))).containsExactly(Long.toString(base.version()));
        assertThat(tensors(metadata.get("inputs"))).containsExactlyEntriesOf(Map.of("features", "FP32 [-1, 12]"));

        Map<String, String> outputs = tensors(metadata.get("outputs"));
        assertThat(outputs).containsEntry("predictions", "FP32 [-1]").containsEntry("request_id", "BYTES [-1]");
        // contributions exist only with explain=true; if listed, then with the shape of the contract.
        Map<String, String> optional = new LinkedHashMap<>(outputs);
        optional.remove("predictions");
        optional.remove("request_id");
        assertThat(Map.of("contributions", "FP64 [-1, 13]")).containsAllEntriesOf(optional);

        String version = metadata.get("versions").get(0).stringValue();
        assertThat(api.ok(api.get("/v2/models/rentals/versions/" + version))).isEqualTo(metadata);
    }

    @Test
    void metadataOfAnUnknownModelOrVersionIs404() {
        error(api.get("/v2/models/nothing"), HttpStatus.NOT_FOUND);
        error(api.get("/v2/models/nothing/versions/1"), HttpStatus.NOT_FOUND);
        error(api.get("/v2/models/regno/versions/regno-000000000000"), HttpStatus.NOT_FOUND);
        error(api.get("/v2/models/rentals/versions/999999999"), HttpStatus.NOT_FOUND);
        error(api.get("/v2/models/rentals/versions/latest"), HttpStatus.NOT_FOUND);
        error(api.client().get().uri("/v2/models/regno").exchange(), HttpStatus.UNAUTHORIZED);
    }

    @Test
    void bothModelsAreReadyWithOrWithoutTheirVersion() {
        String base = Long.toString(baseModel().version());
        JsonNode regno = JSON.readTree("{\"name\":\"regno\",\"ready\":true}");
        JsonNode rentals = JSON.readTree("{\"name\":\"rentals\",\"ready\":true}");
        assertThat(api.ok(api.get("/v2/models/regno/ready"))).isEqualTo(regno);
        assertThat(api.ok(api.get("/v2/models/regno/versions/" + regnoVersion + "/ready"))).isEqualTo(regno);
        assertThat(api.ok(api.get("/v2/models/rentals/ready"))).isEqualTo(rentals);
        assertThat(api.ok(api.get("/v2/models/rentals/versions/" + base + "/ready"))).isEqualTo(rentals);

        error(api.get("/v2/models/nothing/ready"), HttpStatus.NOT_FOUND);
        error(api.get("/v2/models/regno/versions/regno-000000000000/ready"), HttpStatus.NOT_FOUND);
        error(api.get("/v2/models/rentals/versions/999999999/ready"), HttpStatus.NOT_FOUND);
    }

    // ---------------------------------------------------------------------------------------------------------
    // regno inference
    // ---------------------------------------------------------------------------------------------------------

    @Test
    void regnoOneRowEchoesTheIdAndAnswersWhatV1Answers() {
        Map<String, String> row = regnoRows.get(0);
        ObjectNode request = regnoInfer(List.of(row));
        request.put("id", "oip-42");
        JsonNode answer = api.ok(api.post("/v2/models/regno/infer", request));

        assertThat(answer.get("model_name").stringValue()).isEqualTo("regno");
        assertThat(answer.get("model_version").stringValue()).isEqualTo(regnoVersion);
        assertThat(answer.get("id").stringValue()).isEqualTo("oip-42");
        assertThat(outputNames(answer)).containsExactlyInAnyOrder("negative", "positive");
        double[] negative = values(output(answer, "negative"), "FP64", 1);
        double[] positive = values(output(answer, "positive"), "FP64", 1);

        JsonNode v1 = api.ok(api.post("/v1/regno/predict", regnoV1(row)));
        assertThat(negative[0]).isEqualTo(v1.get("negative").doubleValue());
        assertThat(positive[0]).isEqualTo(v1.get("positive").doubleValue());
        assertThat(negative[0] + positive[0]).isCloseTo(1.0, within(1e-12));
    }

    @Test
    void regnoBatchAnswersEveryRowInOrderAndAnIdIsGeneratedWhenAbsent() {
        List<Map<String, String>> rows = regnoRows.subList(10, 13);
        JsonNode answer = api.ok(api.post("/v2/models/regno/infer", regnoInfer(rows)));
        double[] negative = values(output(answer, "negative"), "FP64", 3);
        double[] positive = values(output(answer, "positive"), "FP64", 3);
        for (int i = 0; i < rows.size(); i++) {
            JsonNode v1 = api.ok(api.post("/v1/regno/predict", regnoV1(rows.get(i))));
            assertThat(negative[i]).as("row %d negative", i).isEqualTo(v1.get("negative").doubleValue());
            assertThat(positive[i]).as("row %d positive", i).isEqualTo(v1.get("positive").doubleValue());
        }
        // The three rows differ, so "in order" means something.
        assertThat(new HashSet<>(List.of(positive[0], positive[1], positive[2]))).hasSize(3);

        String id = answer.get("id").stringValue();
        assertThat(UUID.fromString(id).toString()).isEqualTo(id.toLowerCase());
        String another = api.ok(api.post("/v2/models/regno/infer", regnoInfer(rows))).get("id").stringValue();
        assertThat(another).isNotEqualTo(id);
        UUID.fromString(another);
    }

    @Test
    void regnoAcceptsColumnShapesAndNestedOrFlatData() {
        List<Map<String, String>> rows = regnoRows.subList(20, 23);
        JsonNode flat = api.ok(api.post("/v2/models/regno/infer", regnoInfer(rows, Layout.VECTOR)));
        JsonNode column = api.ok(api.post("/v2/models/regno/infer", regnoInfer(rows, Layout.COLUMN_FLAT)));
        JsonNode nested = api.ok(api.post("/v2/models/regno/infer", regnoInfer(rows, Layout.COLUMN_NESTED)));
        for (String name : List.of("negative", "positive")) {
            double[] expected = values(output(flat, name), "FP64", 3);
            assertThat(values(output(column, name), "FP64", 3)).as("[N,1] flat, %s", name).containsExactly(expected);
            assertThat(values(output(nested, name), "FP64", 3)).as("[N,1] nested, %s", name).containsExactly(expected);
        }
    }

    @Test
    void regnoAcceptsOtherNumericDatatypesForItsNumberInputs() {
        List<Map<String, String>> rows = regnoRows.subList(30, 32);
        JsonNode reference = api.ok(api.post("/v2/models/regno/infer", regnoInfer(rows)));
        ObjectNode request = regnoInfer(rows);
        input(request, "direction").put("datatype", "INT32");
        input(request, "recognition_accuracy").put("datatype", "FP32");
        JsonNode answer = api.ok(api.post("/v2/models/regno/infer", request));
        assertThat(values(output(answer, "positive"), "FP64", 2)).hasSize(2);

        ObjectNode directionAsFloat = regnoInfer(rows);
        ObjectNode direction = input(directionAsFloat, "direction");
        direction.put("datatype", "FP64");
        ArrayNode data = direction.putArray("data");
        rows.forEach(row -> data.add(Double.parseDouble(row.get("direction"))));
        JsonNode same = api.ok(api.post("/v2/models/regno/infer", directionAsFloat));
        assertThat(values(output(same, "positive"), "FP64", 2))
                .containsExactly(values(output(reference, "positive"), "FP64", 2));
    }

    @Test
    void regnoReturnsOnlyTheRequestedOutputs() {
        ObjectNode request = regnoInfer(regnoRows.subList(0, 2));
        request.putArray("outputs").addObject().put("name", "positive");
        JsonNode answer = api.ok(api.post("/v2/models/regno/infer", request));
        assertThat(outputNames(answer)).containsExactly("positive");
        assertThat(values(output(answer, "positive"), "FP64", 2)).hasSize(2);
    }

    @Test
    void regnoTensorErrorsAre400NamingTheTensor() {
        List<Map<String, String>> one = regnoRows.subList(0, 1);

        ObjectNode missing = regnoInfer(one);
        removeInput(missing, "time_check");
        assertThat(regnoBadRequest(missing)).contains("time_check");

        ObjectNode unknown = regnoInfer(one);
        ((ArrayNode) unknown.get("inputs")).add(tensor("casual", "BYTES", JSON.createArrayNode().add("x"), 1));
        assertThat(regnoBadRequest(unknown)).contains("casual");

        ObjectNode numberForText = regnoInfer(one);
        input(numberForText, "camera_type").put("datatype", "FP64").putArray("data").add(1.0);
        assertThat(regnoBadRequest(numberForText)).contains("camera_type");

        ObjectNode textForNumber = regnoInfer(one);
        input(textForNumber, "afts_regno_ai_score").put("datatype", "BYTES").putArray("data").add("0.86");
        assertThat(regnoBadRequest(textForNumber)).contains("afts_regno_ai_score");

        ObjectNode numberInBytes = regnoInfer(one);
        input(numberInBytes, "camera_class").putArray("data").add(7);
        assertThat(regnoBadRequest(numberInBytes)).contains("camera_class");

        ObjectNode stringInNumbers = regnoInfer(one);
        input(stringInNumbers, "direction").putArray("data").add("0");
        assertThat(regnoBadRequest(stringInNumbers)).contains("direction");

        ObjectNode sizeMismatch = regnoInfer(one);
        ((ArrayNode) input(sizeMismatch, "time_check").get("data")).add("2021-08-01 09:03:00");
        assertThat(regnoBadRequest(sizeMismatch)).contains("time_check");

        ObjectNode twoColumns = regnoInfer(one);
        ObjectNode camera = input(twoColumns, "camera_type");
        camera.putArray("shape").add(1).add(2);
        ((ArrayNode) camera.get("data")).add("Стационарная");
        assertThat(regnoBadRequest(twoColumns)).contains("camera_type");

        ObjectNode disagreeing = regnoInfer(regnoRows.subList(0, 3));
        ObjectNode direction = input(disagreeing, "direction");
        direction.putArray("shape").add(2);
        direction.putArray("data").add(0).add(1);
        assertThat(regnoBadRequest(disagreeing)).contains("direction");
    }

    @Test
    void regnoRequestErrorsAre400() {
        // No rows, more rows than gateway.regno.max-batch-size, unreadable or ill-typed request members.
        regnoBadRequest(regnoInfer(List.of()));
        regnoBadRequest(regnoInfer(regnoRows.subList(0, REGNO_MAX_BATCH + 1)));
        api.ok(api.post("/v2/models/regno/infer", regnoInfer(regnoRows.subList(0, REGNO_MAX_BATCH))));

        regnoBadRequest("{\"inputs\": [");
        regnoBadRequest("[]");
        assertThat(regnoBadRequest("{\"id\":\"no-inputs\"}")).contains("inputs");

        ObjectNode numericId = regnoInfer(regnoRows.subList(0, 1));
        numericId.put("id", 42);
        assertThat(regnoBadRequest(numericId)).contains("id");

        ObjectNode objectParameter = regnoInfer(regnoRows.subList(0, 1));
        objectParameter.putObject("parameters").putObject("trace").put("level", 1);
        regnoBadRequest(objectParameter);

        ObjectNode unknownOutput = regnoInfer(regnoRows.subList(0, 1));
        unknownOutput.putArray("outputs").addObject().put("name", "probability");
        assertThat(regnoBadRequest(unknownOutput)).contains("probability");

        ObjectNode explain = regnoInfer(regnoRows.subList(0, 1));
        explain.putObject("parameters").put("explain", true);
        assertThat(regnoBadRequest(explain)).contains("explanations are not available for the regno model");
    }

    @Test
    void inferOnAnUnknownModelOrVersionIs404() {
        ObjectNode request = regnoInfer(regnoRows.subList(0, 1));
        error(api.post("/v2/models/nothing/infer", request), HttpStatus.NOT_FOUND);
        error(api.post("/v2/models/regno/versions/regno-000000000000/infer", request), HttpStatus.NOT_FOUND);
        JsonNode versioned = api.ok(api.post("/v2/models/regno/versions/" + regnoVersion + "/infer", request));
        assertThat(versioned.get("model_version").stringValue()).isEqualTo(regnoVersion);
    }

    @Test
    void inferNeedsTheKeyAndJson() {
        String body = JSON.writeValueAsString(regnoInfer(regnoRows.subList(0, 1)));
        error(api.client().post().uri("/v2/models/regno/infer").contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange(), HttpStatus.UNAUTHORIZED);
        error(api.client().post().uri("/v2/models/regno/infer").header("x-api-key", "not-" + KEY)
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body).exchange(), HttpStatus.UNAUTHORIZED);
        error(api.client().post().uri("/v2/models/regno/infer").header("x-api-key", KEY)
                .contentType(MediaType.TEXT_PLAIN).bodyValue(body).exchange(), HttpStatus.UNSUPPORTED_MEDIA_TYPE);
    }

    @Test
    void unknownV2PathsAndWrongMethodsAnswerTheOipErrorBody() {
        error(api.get("/v2/models/regno/nothing"), HttpStatus.NOT_FOUND);
        WebTestClient.ResponseSpec wrongMethod = api.get("/v2/models/regno/infer");
        wrongMethod.expectHeader().value(HttpHeaders.ALLOW, allow -> assertThat(allow).contains("POST"));
        error(wrongMethod, HttpStatus.METHOD_NOT_ALLOWED);
    }

    // ---------------------------------------------------------------------------------------------------------
    // rentals inference
    // ---------------------------------------------------------------------------------------------------------

    @Test
    void rentalsScoresLikeV1AndEveryRowIsLoggedAndTakesItsActual() throws Exception {
        String user = newUser("oip");
        List<BikeSharingData.Hour> sample = hours.subList(5000, 5005);
        ObjectNode request = rentalsInfer(user, sample, false);
        request.put("id", "rentals-1");
        JsonNode answer = api.ok(api.post("/v2/models/rentals/infer", request));

        ModelRecord base = baseModel();
        assertThat(answer.get("model_name").stringValue()).isEqualTo("rentals");
        assertThat(answer.get("model_version").stringValue()).isEqualTo(Long.toString(base.version()));
        assertThat(answer.get("id").stringValue()).isEqualTo("rentals-1");
        assertThat(answer.get("parameters")).isEqualTo(JSON.createObjectNode().put("user_id", user));
        assertThat(outputNames(answer)).containsExactlyInAnyOrder("predictions", "request_id");

        double[] predictions = values(output(answer, "predictions"), "FP32", 5);
        for (int i = 0; i < sample.size(); i++) {
            float expected = TestModels.predict(base, base, sample.get(i).features());
            assertThat((float) predictions[i]).as("row %d", i).isEqualTo(expected);
            JsonNode v1 = api.ok(api.post("/v1/rentals/" + user + "/predict", rentalsV1(sample.get(i))));
            assertThat((float) predictions[i]).as("row %d against v1", i)
                    .isEqualTo((float) v1.get("prediction").doubleValue());
        }

        List<String> ids = strings(output(answer, "request_id"), "BYTES", 5);
        ids.forEach(UUID::fromString);
        assertThat(new HashSet<>(ids)).hasSize(5);
        String idList = ids.stream().map(id -> "'" + id + "'").collect(Collectors.joining(","));
        await("the five v2 predictions in the inference log", Duration.ofSeconds(10), () ->
                db.count("SELECT count(*) FROM rental_predictions WHERE request_id IN (" + idList + ")") == 5);
        assertThat(db.count("SELECT count(*) FROM rental_predictions WHERE request_id IN (" + idList + ") AND user_id = '"
                + user + "' AND model_version = " + base.version())).isEqualTo(5);
        try (var c = db.jdbc(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT prediction FROM rental_predictions WHERE request_id = '" + ids.get(2) + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat((float) rs.getDouble("prediction")).isEqualTo((float) predictions[2]);
        }

        ObjectNode actuals = JSON.createObjectNode();
        ArrayNode items = actuals.putArray("actuals");
        for (int i = 0; i < ids.size(); i++) {
            items.addObject().put("request_id", ids.get(i)).put("actual_value", sample.get(i).count());
        }
        JsonNode stored = api.ok(api.post("/v1/rentals/actuals", actuals));
        assertThat(stored.get("results").valueStream().map(r -> r.get("status").stringValue()))
                .containsExactly("stored", "stored", "stored", "stored", "stored");
    }

    @Test
    void rentalsAcceptsNestedOrFlatFeaturesAndReturnsOnlyTheRequestedOutputs() {
        String user = newUser("shape");
        List<BikeSharingData.Hour> sample = hours.subList(700, 703);
        double[] flat = values(output(api.ok(api.post("/v2/models/rentals/infer", rentalsInfer(user, sample, false))),
                "predictions"), "FP32", 3);
        double[] nested = values(output(api.ok(api.post("/v2/models/rentals/infer", rentalsInfer(user, sample, true))),
                "predictions"), "FP32", 3);
        assertThat(nested).containsExactly(flat);

        ObjectNode asDoubles = rentalsInfer(user, sample, false);
        input(asDoubles, "features").put("datatype", "FP64");
        assertThat(values(output(api.ok(api.post("/v2/models/rentals/infer", asDoubles)), "predictions"), "FP32", 3))
                .containsExactly(flat);

        ObjectNode onlyPredictions = rentalsInfer(user, sample, false);
        onlyPredictions.putArray("outputs").addObject().put("name", "predictions");
        assertThat(outputNames(api.ok(api.post("/v2/models/rentals/infer", onlyPredictions))))
                .containsExactly("predictions");
    }

    @Test
    void rentalsExplanationsAreContributionsAndBiasSummingToThePrediction() {
        String user = newUser("explain");
        List<BikeSharingData.Hour> sample = List.of(hours.get(100), hours.get(4000), hours.get(9000),
                hours.get(12_000), hours.get(15_000), hours.get(17_000));
        ObjectNode request = rentalsInfer(user, sample, false);
        request.putObject("parameters").put("user_id", user).put("explain", true);
        JsonNode answer = api.ok(api.post("/v2/models/rentals/infer", request));
        assertThat(outputNames(answer)).containsExactlyInAnyOrder("predictions", "request_id", "contributions");

        double[] predictions = values(output(answer, "predictions"), "FP32", 6);
        double[] contributions = values(output(answer, "contributions"), "FP64", 6, 13);
        for (int row = 0; row < sample.size(); row++) {
            double sum = 0;
            for (int c = 0; c < RentalFeatures.COUNT + 1; c++) {
                sum += contributions[row * 13 + c];
            }
            assertThat(sum).as("row %d: 12 contributions + bias", row).isCloseTo(predictions[row], within(FLOAT32_SUM_ROUNDING));
        }
        // The features do contribute: not everything is in the bias column.
        double featureShare = 0;
        for (int row = 0; row < sample.size(); row++) {
            for (int c = 0; c < RentalFeatures.COUNT; c++) {
                featureShare += Math.abs(contributions[row * 13 + c]);
            }
        }
        assertThat(featureShare).isGreaterThan(1.0);

        ObjectNode notExplained = rentalsInfer(user, sample, false);
        notExplained.putObject("parameters").put("user_id", user).put("explain", false);
        JsonNode plain = api.ok(api.post("/v2/models/rentals/infer", notExplained));
        assertThat(outputNames(plain)).containsExactlyInAnyOrder("predictions", "request_id");
        assertThat(values(output(plain, "predictions"), "FP32", 6)).containsExactly(predictions);
    }

    /** The header a balancer routes by (x-user-id) must name the request's user: else 400, naming the header. */
    @Test
    void theRoutingHeaderMustNameTheRequestsUser() {
        String user = newUser("routed");
        ObjectNode request = rentalsInfer(user, hours.subList(1, 2), false);
        String json = JSON.writeValueAsString(request);
        api.ok(api.client().post().uri("/v2/models/rentals/infer").header("x-api-key", KEY)
                .header(ApiRoutes.USER_ROUTING_HEADER, user).contentType(MediaType.APPLICATION_JSON).bodyValue(json)
                .exchange());
        String message = error(api.client().post().uri("/v2/models/rentals/infer").header("x-api-key", KEY)
                .header(ApiRoutes.USER_ROUTING_HEADER, "someone-else").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(json).exchange(), HttpStatus.BAD_REQUEST);
        assertThat(message).contains("x-user-id").contains("someone-else").contains(user);
    }

    @Test
    void rentalsInputErrorsAre400() {
        List<BikeSharingData.Hour> one = hours.subList(1, 2);

        ObjectNode noUser = rentalsInfer("u1", one, false);
        noUser.remove("parameters");
        assertThat(rentalsBadRequest(noUser)).contains("user_id");
        assertThat(rentalsBadRequest(rentalsInfer(ModelRegistry.BASE_USER, one, false))).contains("user_id");
        assertThat(rentalsBadRequest(rentalsInfer("no spaces allowed", one, false))).contains("user_id");

        ObjectNode elevenColumns = rentalsInfer("u1", one, false);
        ObjectNode features = input(elevenColumns, "features");
        features.putArray("shape").add(1).add(11);
        ((ArrayNode) features.get("data")).remove(11);
        assertThat(rentalsBadRequest(elevenColumns)).contains("features");

        ObjectNode notAFloat = rentalsInfer("u1", one, false);
        ((ArrayNode) input(notAFloat, "features").get("data")).set(8, JSON.getNodeFactory().numberNode(1e300));
        assertThat(rentalsBadRequest(notAFloat)).contains("features");

        ObjectNode text = rentalsInfer("u1", one, false);
        ((ArrayNode) input(text, "features").get("data")).set(8, JSON.getNodeFactory().stringNode("warm"));
        assertThat(rentalsBadRequest(text)).contains("features");

        ObjectNode bytes = rentalsInfer("u1", one, false);
        input(bytes, "features").put("datatype", "BYTES");
        assertThat(rentalsBadRequest(bytes)).contains("features");

        ObjectNode noFeatures = rentalsInfer("u1", one, false);
        noFeatures.putArray("inputs");
        assertThat(rentalsBadRequest(noFeatures)).contains("features");

        rentalsBadRequest(rentalsInfer("u1", hours.subList(0, RENTALS_MAX_BATCH + 1), false));
        api.ok(api.post("/v2/models/rentals/infer", rentalsInfer("u1", hours.subList(0, RENTALS_MAX_BATCH), false)));
    }

    @Test
    void versionedRentalsInferScoresOnlyWithTheVersionServingTheUser() {
        ModelRecord base = baseModel();
        String baseUser = newUser("v-base");
        List<BikeSharingData.Hour> one = hours.subList(300, 301);
        String served = api.ok(api.post("/v2/models/rentals/infer", rentalsInfer(baseUser, one, false)))
                .get("model_version").stringValue();
        assertThat(served).isEqualTo(Long.toString(base.version()));
        JsonNode versioned = api.ok(api.post("/v2/models/rentals/versions/" + served + "/infer",
                rentalsInfer(baseUser, one, false)));
        assertThat(versioned.get("model_version").stringValue()).isEqualTo(served);
        error(api.post("/v2/models/rentals/versions/999999999/infer", rentalsInfer(baseUser, one, false)),
                HttpStatus.NOT_FOUND);

        // A user with a model of its own (stored before its first request) is served it, and only it.
        String ownUser = newUser("v-own");
        ModelRecord own = registry.store(TestModels.continued(ownUser, base, null, hours.subList(9000, 9050), 3), null)
                .block();
        JsonNode answer = api.ok(api.post("/v2/models/rentals/infer", rentalsInfer(ownUser, one, false)));
        assertThat(answer.get("model_version").stringValue()).isEqualTo(Long.toString(own.version()));
        assertThat((float) values(output(answer, "predictions"), "FP32", 1)[0])
                .isEqualTo(TestModels.predict(base, own, one.get(0).features()));
        api.ok(api.post("/v2/models/rentals/versions/" + own.version() + "/infer", rentalsInfer(ownUser, one, false)));
        error(api.post("/v2/models/rentals/versions/" + base.version() + "/infer", rentalsInfer(ownUser, one, false)),
                HttpStatus.NOT_FOUND);
    }

    private String regnoBadRequest(Object request) {
        return error(api.post("/v2/models/regno/infer", request), HttpStatus.BAD_REQUEST);
    }

    private String rentalsBadRequest(Object request) {
        return error(api.post("/v2/models/rentals/infer", request), HttpStatus.BAD_REQUEST);
    }

    private ModelRecord baseModel() {
        return registry.current(ModelRegistry.BASE_USER).block(Duration.ofSeconds(10));
    }

    static String newUser(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    // =========================================================================================================
    // Shared with ProtocolEquivalenceTest: the services, an HTTP client with the key, OIP builders and readers.
    // =========================================================================================================

    /** The local PostgreSQL (in {@code database}'s schema), Redis and Kafka. */
    static void serviceProperties(DynamicPropertyRegistry registry, LocalServices.TestDatabase database) {
        registry.add("spring.r2dbc.url", database::r2dbcUrl);
        registry.add("spring.r2dbc.username", database::user);
        registry.add("spring.r2dbc.password", database::password);
        registry.add("spring.data.redis.url", LocalServices::redisUri);
        registry.add("spring.kafka.bootstrap-servers", LocalServices::kafkaBootstrap);
        registry.add("gateway.rentals.startup-retry", () -> "500ms");
    }

    /** The gateway's API port, with the client key unless asked otherwise. */
    static final class Client {

        private final WebTestClient client;

        Client(int port) {
            client = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port)
                    .responseTimeout(Duration.ofSeconds(30)).build();
        }

        WebTestClient client() {
            return client;
        }

        WebTestClient.ResponseSpec get(String path) {
            return client.get().uri(path).header("x-api-key", KEY).exchange();
        }

        /** POSTs {@code body} (a JSON string as is, anything else serialized) as application/json. */
        WebTestClient.ResponseSpec post(String path, Object body) {
            String json = body instanceof String text ? text : JSON.writeValueAsString(body);
            return client.post().uri(path).header("x-api-key", KEY).contentType(MediaType.APPLICATION_JSON)
                    .bodyValue(json).exchange();
        }

        JsonNode ok(WebTestClient.ResponseSpec response) {
            byte[] body = response.expectStatus().isOk()
                    .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_JSON)
                    .expectBody().returnResult().getResponseBody();
            assertThat(body).as("response body").isNotNull();
            return JSON.readTree(body);
        }

        JsonNode okWithoutKey(String path) {
            return ok(client.get().uri(path).exchange());
        }
    }

    /** Asserts an OIP error answer: {@code status}, JSON, exactly {@code {"error": "..."}}; returns the message. */
    static String error(WebTestClient.ResponseSpec response, HttpStatus status) {
        byte[] bytes = response.expectStatus().isEqualTo(status)
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_JSON)
                .expectBody().returnResult().getResponseBody();
        assertThat(bytes).as("error body").isNotNull();
        JsonNode body = JSON.readTree(bytes);
        assertThat(body.propertyNames()).as("OIP error body %s", body).containsExactly("error");
        String message = body.get("error").stringValue();
        assertThat(message).isNotBlank().doesNotContain("Exception").doesNotContain("at io.");
        return message;
    }

    /** How a regno request lays out each input: {@code [N]}, or {@code [N, 1]} with flat or nested data. */
    enum Layout { VECTOR, COLUMN_FLAT, COLUMN_NESTED }

    static String regnoDatatype(String input) {
        return switch (input) {
            case "recognition_accuracy", "afts_regno_ai_score" -> "FP64";
            case "direction" -> "INT64";
            default -> "BYTES";
        };
    }

    /** A regno infer request for {@code rows} (test_data.csv rows): the ten inputs, each of shape {@code [N]}. */
    static ObjectNode regnoInfer(List<Map<String, String>> rows) {
        return regnoInfer(rows, Layout.VECTOR);
    }

    static ObjectNode regnoInfer(List<Map<String, String>> rows, Layout layout) {
        ObjectNode request = JSON.createObjectNode();
        ArrayNode inputs = request.putArray("inputs");
        for (String name : REGNO_INPUTS) {
            String datatype = regnoDatatype(name);
            ArrayNode data = JSON.createArrayNode();
            for (Map<String, String> row : rows) {
                ArrayNode into = layout == Layout.COLUMN_NESTED ? data.addArray() : data;
                String value = row.get(name);
                switch (datatype) {
                    case "FP64" -> into.add(Double.parseDouble(value));
                    case "INT64" -> into.add(Long.parseLong(value));
                    default -> into.add(value);
                }
            }
            inputs.add(layout == Layout.VECTOR ? tensor(name, datatype, data, rows.size())
                    : tensor(name, datatype, data, rows.size(), 1));
        }
        return request;
    }

    /** The same row as a v1 {@code /v1/regno/predict} body: numbers as JSON numbers, the score lists as strings. */
    static ObjectNode regnoV1(Map<String, String> row) {
        ObjectNode body = JSON.createObjectNode();
        row.forEach((name, value) -> {
            switch (regnoDatatype(name)) {
                case "FP64" -> body.put(name, Double.parseDouble(value));
                case "INT64" -> body.put(name, Integer.parseInt(value));
                default -> body.put(name, value);
            }
        });
        return body;
    }

    /** A rentals infer request: {@code parameters.user_id}, one FP32 {@code [N, 12]} input {@code features}. */
    static ObjectNode rentalsInfer(String user, List<BikeSharingData.Hour> rows, boolean nested) {
        ObjectNode request = JSON.createObjectNode();
        request.putObject("parameters").put("user_id", user);
        ArrayNode data = JSON.createArrayNode();
        for (BikeSharingData.Hour hour : rows) {
            ArrayNode into = nested ? data.addArray() : data;
            for (float value : hour.features()) {
                into.add(value);
            }
        }
        request.putArray("inputs").add(tensor("features", "FP32", data, rows.size(), RentalFeatures.COUNT));
        return request;
    }

    /** The same hour as a v1 {@code /v1/rentals/{user}/predict} body. */
    static ObjectNode rentalsV1(BikeSharingData.Hour hour) {
        return RentalsTestSupport.body(hour);
    }

    static ObjectNode tensor(String name, String datatype, ArrayNode data, int... shape) {
        ObjectNode tensor = JSON.createObjectNode();
        tensor.put("name", name);
        ArrayNode dims = tensor.putArray("shape");
        for (int d : shape) {
            dims.add(d);
        }
        tensor.put("datatype", datatype);
        tensor.set("data", data);
        return tensor;
    }

    /** The request's input tensor {@code name}, to alter. */
    static ObjectNode input(ObjectNode request, String name) {
        for (JsonNode input : request.get("inputs")) {
            if (name.equals(input.get("name").stringValue())) {
                return (ObjectNode) input;
            }
        }
        throw new AssertionError("no input " + name + " in " + request);
    }

    static void removeInput(ObjectNode request, String name) {
        ArrayNode inputs = (ArrayNode) request.get("inputs");
        for (int i = 0; i < inputs.size(); i++) {
            if (name.equals(inputs.get(i).get("name").stringValue())) {
                inputs.remove(i);
                return;
            }
        }
        throw new AssertionError("no input " + name);
    }

    static List<String> outputNames(JsonNode answer) {
        return answer.get("outputs").valueStream().map(o -> o.get("name").stringValue()).toList();
    }

    /** The answer's output tensor {@code name}; fails if it has none. */
    static JsonNode output(JsonNode answer, String name) {
        for (JsonNode output : answer.get("outputs")) {
            if (name.equals(output.get("name").stringValue())) {
                return output;
            }
        }
        throw new AssertionError("no output " + name + " in " + answer);
    }

    /**
     * An output's numbers, row-major (flat or nested data both read), after checking its datatype and shape; the
     * element count must match the shape.
     */
    static double[] values(JsonNode output, String datatype, int... shape) {
        checkTensor(output, datatype, shape);
        List<JsonNode> elements = flatten(output.get("data"));
        double[] values = new double[elements.size()];
        for (int i = 0; i < values.length; i++) {
            assertThat(elements.get(i).isNumber()).as("%s element %d: %s", output.get("name"), i, elements.get(i))
                    .isTrue();
            values[i] = elements.get(i).doubleValue();
        }
        return values;
    }

    /** An output's strings (BYTES), like {@link #values}. */
    static List<String> strings(JsonNode output, String datatype, int... shape) {
        checkTensor(output, datatype, shape);
        return flatten(output.get("data")).stream().map(JsonNode::stringValue).toList();
    }

    private static void checkTensor(JsonNode output, String datatype, int... shape) {
        assertThat(output.get("datatype").stringValue()).as("%s datatype", output.get("name")).isEqualTo(datatype);
        List<Integer> dims = output.get("shape").valueStream().map(JsonNode::intValue).toList();
        assertThat(dims).as("%s shape", output.get("name"))
                .containsExactlyElementsOf(java.util.Arrays.stream(shape).boxed().toList());
        int size = java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        assertThat(flatten(output.get("data"))).as("%s data", output.get("name")).hasSize(size);
    }

    private static List<JsonNode> flatten(JsonNode data) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode element : data) {
            if (element.isArray()) {
                out.addAll(flatten(element));
            } else {
                out.add(element);
            }
        }
        return out;
    }

    static List<String> strings(JsonNode array) {
        assertThat(array.isArray()).as("%s is an array", array).isTrue();
        return array.valueStream().map(JsonNode::stringValue).toList();
    }

    /** Metadata tensors as name → "DATATYPE [shape]", e.g. {@code features → FP32 [-1, 12]}. */
    static Map<String, String> tensors(JsonNode metadata) {
        Map<String, String> tensors = new LinkedHashMap<>();
        for (JsonNode tensor : metadata) {
            assertThat(tensor.propertyNames()).as("metadata tensor %s", tensor)
                    .containsExactlyInAnyOrder("name", "datatype", "shape");
            String shape = tensor.get("shape").valueStream().map(d -> Long.toString(d.longValue()))
                    .collect(Collectors.joining(", ", "[", "]"));
            assertThat(tensors.put(tensor.get("name").stringValue(), tensor.get("datatype").stringValue() + " " + shape))
                    .as("tensor %s listed once", tensor.get("name")).isNull();
        }
        return tensors;
    }

    /** The customer's 100 recognitions, test_data.csv, as column → cell, the columns the regno tensors' names. */
    static List<Map<String, String>> regnoRows() throws IOException {
        List<Map<String, String>> rows = RegnoTestData.rows();
        assertThat(rows).hasSize(100);
        assertThat(rows.get(0).keySet()).containsExactlyElementsOf(REGNO_INPUTS);
        return rows;
    }

    /** The Maven project version (the gateway module's parent), which {@code GET /v2} must report. */
    static String projectVersion() throws IOException {
        Path pom = Path.of(System.getProperty("basedir", "."), "pom.xml");
        Matcher parent = Pattern.compile("<parent>.*?<version>([^<]+)</version>", Pattern.DOTALL)
                .matcher(Files.readString(pom));
        assertThat(parent.find()).as("parent version in %s", pom.toAbsolutePath()).isTrue();
        return parent.group(1).trim();
    }
}

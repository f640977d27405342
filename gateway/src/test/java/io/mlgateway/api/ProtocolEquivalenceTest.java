package io.mlgateway.api;

import static io.mlgateway.api.InferenceProtocolTest.JSON;
import static io.mlgateway.api.InferenceProtocolTest.REGNO_INPUTS;
import static io.mlgateway.api.InferenceProtocolTest.newUser;
import static io.mlgateway.api.InferenceProtocolTest.output;
import static io.mlgateway.api.InferenceProtocolTest.regnoInfer;
import static io.mlgateway.api.InferenceProtocolTest.regnoV1;
import static io.mlgateway.api.InferenceProtocolTest.rentalsInfer;
import static io.mlgateway.api.InferenceProtocolTest.rentalsV1;
import static io.mlgateway.api.InferenceProtocolTest.strings;
import static io.mlgateway.api.InferenceProtocolTest.values;
import static io.mlgateway.rentals.RentalsTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.catboost.CatBoostModel;
import io.mlgateway.regno.RegnoModel;
import io.mlgateway.rentals.RentalsReadiness;
import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.TestModels;
import io.mlgateway.shared.training.BikeSharingData;
import java.io.InputStream;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.io.ClassPathResource;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * v1 and v2 are two wire formats for one scoring: for the same rows they must give the same numbers and name the
 * same model version. Also v1's {@code explain=true} (contributions that add up to the prediction, equal to v2's
 * contributions tensor) and {@code GET /v1/models}. On the real PostgreSQL, Redis and Kafka, default batch limits.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0",
        "gateway.api.api-keys=" + InferenceProtocolTest.KEY_HASH})
class ProtocolEquivalenceTest {

    private static final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private static List<BikeSharingData.Hour> hours;
    private static List<Map<String, String>> regnoRows;
    private static String regnoVersion;
    private static List<String> regnoFeatureNames;

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        InferenceProtocolTest.serviceProperties(registry, db);
    }

    @LocalServerPort
    int port;
    @Autowired
    RentalsReadiness readiness;
    @Autowired
    ModelRegistry registry;

    private InferenceProtocolTest.Client api;

    @BeforeAll
    static void data() throws Exception {
        hours = BikeSharingData.load();
        regnoRows = InferenceProtocolTest.regnoRows();
        ClassPathResource file = new ClassPathResource("models/regno/micromodel.cbm");
        try (RegnoModel model = RegnoModel.load(file)) {
            regnoVersion = model.version();
        }
        try (InputStream in = file.getInputStream(); CatBoostModel model = CatBoostModel.loadModel(in)) {
            regnoFeatureNames = model.getFeatures().stream().map(CatBoostModel.Feature::getName).toList();
        }
    }

    @BeforeEach
    void ready() {
        api = new InferenceProtocolTest.Client(port);
        await("rentals readiness (migrations + base model)", Duration.ofSeconds(90), readiness::isReady);
    }

    // (a) regno: the customer's 100 recognitions.
    @Test
    void regnoV2AnswersEqualV1ForAllHundredRows() {
        assertThat(regnoRows).hasSize(100);
        double[] negative = new double[100];
        double[] positive = new double[100];
        for (int i = 0; i < 100; i++) {
            JsonNode v1 = api.ok(api.post("/v1/regno/predict", regnoV1(regnoRows.get(i))));
            negative[i] = v1.get("negative").doubleValue();
            positive[i] = v1.get("positive").doubleValue();
            assertThat(v1.get("model_version").stringValue()).isEqualTo(regnoVersion);
        }

        for (int from = 0; from < 100; from += 25) {
            JsonNode v2 = api.ok(api.post("/v2/models/regno/infer", regnoInfer(regnoRows.subList(from, from + 25))));
            assertThat(v2.get("model_version").stringValue()).isEqualTo(regnoVersion);
            double[] v2Negative = values(output(v2, "negative"), "FP64", 25);
            double[] v2Positive = values(output(v2, "positive"), "FP64", 25);
            for (int i = 0; i < 25; i++) {
                assertThat(v2Negative[i]).as("row %d negative", from + i).isEqualTo(negative[from + i]);
                assertThat(v2Positive[i]).as("row %d positive", from + i).isEqualTo(positive[from + i]);
            }
        }

        for (int i : new int[] {0, 42, 77, 99}) {
            JsonNode v2 = api.ok(api.post("/v2/models/regno/infer", regnoInfer(regnoRows.subList(i, i + 1))));
            assertThat(values(output(v2, "negative"), "FP64", 1)[0]).as("row %d alone", i).isEqualTo(negative[i]);
            assertThat(values(output(v2, "positive"), "FP64", 1)[0]).as("row %d alone", i).isEqualTo(positive[i]);
        }
    }

    // (b) rentals: 1,000 hours of the year-round data, for a user served a model of its own (layered on the base).
    @Test
    void rentalsV2PredictionsEqualV1ForAThousandHours() {
        String user = newUser("equiv");
        ModelRecord own = storeOwnModel(user, 6000);
        List<BikeSharingData.Hour> sample = everyNthHour(17, 1000);

        float[] v1 = new float[sample.size()];
        for (int i = 0; i < sample.size(); i++) {
            JsonNode answer = api.ok(api.post("/v1/rentals/" + user + "/predict", rentalsV1(sample.get(i))));
            assertThat(answer.get("model_version").longValue()).isEqualTo(own.version());
            assertThat(answer.has("explanation")).isFalse();
            v1[i] = (float) answer.get("prediction").doubleValue();
        }

        for (int from = 0; from < sample.size(); from += 100) {
            JsonNode answer = api.ok(api.post("/v2/models/rentals/infer",
                    rentalsInfer(user, sample.subList(from, from + 100), false)));
            assertThat(answer.get("model_version").stringValue()).isEqualTo(Long.toString(own.version()));
            double[] predictions = values(output(answer, "predictions"), "FP32", 100);
            for (int i = 0; i < 100; i++) {
                assertThat((float) predictions[i]).as("hour %d", from + i).isEqualTo(v1[from + i]);
            }
        }
    }

    // (c) v1 explain=true, for a user on the base model and one with a model of its own: 100 hours each.
    @Test
    void v1ExplanationsAddUpToThePredictionAndEqualV2Contributions() {
        String baseUser = newUser("explain-base");
        String ownUser = newUser("explain-own");
        storeOwnModel(ownUser, 11_000);
        List<BikeSharingData.Hour> sample = everyNthHour(86, 200);
        assertExplanationsAgree(baseUser, sample.subList(0, 100));
        assertExplanationsAgree(ownUser, sample.subList(100, 200));
    }

    private void assertExplanationsAgree(String user, List<BikeSharingData.Hour> sample) {
        ObjectNode request = rentalsInfer(user, sample, false);
        request.putObject("parameters").put("user_id", user).put("explain", true);
        JsonNode v2 = api.ok(api.post("/v2/models/rentals/infer", request));
        double[] v2Predictions = values(output(v2, "predictions"), "FP32", sample.size());
        double[] v2Contributions = values(output(v2, "contributions"), "FP64", sample.size(), RentalFeatures.COUNT + 1);

        for (int row = 0; row < sample.size(); row++) {
            JsonNode v1 = api.ok(api.post("/v1/rentals/" + user + "/predict?explain=true", rentalsV1(sample.get(row))));
            assertThat(v1.propertyNames()).containsExactlyInAnyOrder("request_id", "user_id", "model_version",
                    "prediction", "explanation");
            double prediction = v1.get("prediction").doubleValue();
            JsonNode explanation = v1.get("explanation");
            JsonNode contributions = explanation.get("contributions");
            assertThat(contributions.propertyNames()).as("features in model order")
                    .containsExactlyElementsOf(RentalFeatures.NAMES);
            double bias = explanation.get("bias").doubleValue();
            double sum = bias;
            for (int f = 0; f < RentalFeatures.COUNT; f++) {
                double contribution = contributions.get(RentalFeatures.NAMES.get(f)).doubleValue();
                sum += contribution;
                assertThat(v2Contributions[row * 13 + f]).as("%s row %d %s", user, row, RentalFeatures.NAMES.get(f))
                        .isEqualTo(contribution);
            }
            assertThat(v2Contributions[row * 13 + RentalFeatures.COUNT]).as("%s row %d bias", user, row).isEqualTo(bias);
            assertThat(sum).as("%s row %d: contributions + bias", user, row).isCloseTo(prediction, within(InferenceProtocolTest.FLOAT32_SUM_ROUNDING));
            assertThat((float) prediction).as("%s row %d: v1 = v2", user, row).isEqualTo((float) v2Predictions[row]);
        }
    }

    @Test
    void v1ExplainIsOnlyTrueOrFalseAndRegnoHasNoExplanations() {
        String user = newUser("explain-flag");
        BikeSharingData.Hour hour = hours.get(2024);
        assertThat(api.ok(api.post("/v1/rentals/" + user + "/predict?explain=false", rentalsV1(hour))).has("explanation"))
                .isFalse();
        assertThat(api.ok(api.post("/v1/rentals/" + user + "/predict", rentalsV1(hour))).has("explanation")).isFalse();
        v1Fail(api.post("/v1/rentals/" + user + "/predict?explain=maybe", rentalsV1(hour)), HttpStatus.BAD_REQUEST,
                "explain");

        String message = v1Fail(api.post("/v1/regno/predict?explain=true", regnoV1(regnoRows.get(0))),
                HttpStatus.BAD_REQUEST, "explain");
        assertThat(message).contains("explanations are not available for the regno model");
        ObjectNode batch = JSON.createObjectNode();
        batch.putArray("instances").add(regnoV1(regnoRows.get(0)));
        assertThat(v1Fail(api.post("/v1/regno/predict/batch?explain=true", batch), HttpStatus.BAD_REQUEST, "explain"))
                .contains("explanations are not available for the regno model");
    }

    // (d) GET /v1/models.
    @Test
    void v1ModelsListsRegnoAndRentals() {
        ModelRecord base = registry.current(ModelRegistry.BASE_USER).block(Duration.ofSeconds(10));
        JsonNode models = api.ok(api.get("/v1/models")).get("models");
        assertThat(models.valueStream().map(m -> m.get("name").stringValue())).containsExactly("regno", "rentals");

        JsonNode regno = models.get(0);
        assertThat(regno.propertyNames()).containsExactlyInAnyOrder("name", "platform", "versions", "inputs",
                "features", "explanations");
        assertThat(regno.get("platform").stringValue()).isEqualTo("catboost_cbm");
        assertThat(strings(regno.get("versions"))).containsExactly(regnoVersion);
        assertThat(strings(regno.get("inputs"))).containsExactlyInAnyOrderElementsOf(REGNO_INPUTS);
        assertThat(strings(regno.get("inputs")).get(0)).isEqualTo("regno_recognize");
        assertThat(strings(regno.get("features"))).containsExactlyInAnyOrderElementsOf(regnoFeatureNames);
        assertThat(regno.get("explanations").isBoolean()).isTrue();
        assertThat(regno.get("explanations").booleanValue()).isFalse();

        JsonNode rentals = models.get(1);
        assertThat(rentals.propertyNames()).containsExactlyInAnyOrder("name", "platform", "versions", "inputs",
                "features", "explanations", "base_model", "users_with_own_models");
        assertThat(rentals.get("platform").stringValue()).isEqualTo("xgboost_trees");
        assertThat(strings(rentals.get("versions"))).containsExactly(Long.toString(base.version()));
        assertThat(strings(rentals.get("inputs"))).containsExactlyElementsOf(RentalFeatures.NAMES);
        assertThat(strings(rentals.get("features"))).containsExactlyElementsOf(RentalFeatures.NAMES);
        assertThat(rentals.get("explanations").isBoolean()).isTrue();
        assertThat(rentals.get("explanations").booleanValue()).isTrue();
        JsonNode baseModel = rentals.get("base_model");
        assertThat(baseModel.get("version").isIntegralNumber()).isTrue();
        assertThat(baseModel.get("version").longValue()).isEqualTo(base.version());
        assertThat(baseModel.get("trees").intValue()).isEqualTo(base.numTrees());
        OffsetDateTime created = OffsetDateTime.parse(baseModel.get("created_at").stringValue());
        assertThat(Duration.between(created, base.createdAt()).abs()).isLessThan(Duration.ofSeconds(1));
        assertThat(rentals.get("users_with_own_models").isIntegralNumber()).isTrue();

        api.client().get().uri("/v1/models").exchange().expectStatus().isUnauthorized();
    }

    @Test
    void usersWithOwnModelsCountsAUserOnceItsFirstModelIsStored() {
        // Models stored by the other tests are counted too (at once, or after a cache of the count expires).
        await("users_with_own_models to count every user with a head", Duration.ofSeconds(15),
                () -> usersWithOwnModels() == ownModelHeads());
        long before = usersWithOwnModels();
        storeOwnModel(newUser("count"), 2000);
        await("users_with_own_models to count the new user", Duration.ofSeconds(15),
                () -> usersWithOwnModels() == before + 1);
        assertThat(ownModelHeads()).isEqualTo(before + 1);
    }

    private long usersWithOwnModels() {
        JsonNode models = api.ok(api.get("/v1/models")).get("models");
        return models.valueStream().filter(m -> m.get("name").stringValue().equals("rentals")).findFirst()
                .orElseThrow().get("users_with_own_models").longValue();
    }

    private static long ownModelHeads() {
        return db.count("SELECT count(*) FROM rental_model_heads WHERE user_id <> '" + ModelRegistry.BASE_USER + "'");
    }

    /** Stores a first model of {@code user}'s own, 3 trees fitted on 50 hours from {@code fromHour}, as HotSwapTest does. */
    private ModelRecord storeOwnModel(String user, int fromHour) {
        ModelRecord base = registry.current(ModelRegistry.BASE_USER).block(Duration.ofSeconds(10));
        return registry.store(TestModels.continued(user, base, null, hours.subList(fromHour, fromHour + 50), 3), null)
                .block(Duration.ofSeconds(30));
    }

    private static List<BikeSharingData.Hour> everyNthHour(int step, int count) {
        List<BikeSharingData.Hour> sample = new ArrayList<>(count);
        for (int i = 0; sample.size() < count; i += step) {
            sample.add(hours.get(i));
        }
        return sample;
    }

    /** Asserts a v1 failure envelope naming {@code field}; returns its message. */
    private static String v1Fail(WebTestClient.ResponseSpec response, HttpStatus status, String field) {
        byte[] bytes = response.expectStatus().isEqualTo(status)
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_JSON)
                .expectBody().returnResult().getResponseBody();
        JsonNode error = JSON.readTree(bytes);
        assertThat(error.get("status").stringValue()).isEqualTo("fail");
        assertThat(error.get("field").stringValue()).isEqualTo(field);
        return error.get("message").stringValue();
    }
}

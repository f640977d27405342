package io.mlgateway.api;

import static io.mlgateway.rentals.RentalsTestSupport.await;
import io.mlgateway.shared.testing.KeyHashes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleRequest;
import com.atlassian.oai.validator.model.SimpleResponse;
import com.atlassian.oai.validator.report.SimpleValidationReportFormat;
import com.atlassian.oai.validator.report.ValidationReport;
import io.mlgateway.rentals.RentalsReadiness;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.testing.TestModels;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.shared.testing.LocalServices;
import io.swagger.v3.core.util.Json;
import io.swagger.v3.core.util.Yaml;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.io.ClassPathResource;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The served OpenAPI document is the API's contract: it lists exactly the routes of {@link ApiRoutes}, with the key
 * each takes, and what the running gateway (on the real PostgreSQL, Redis and Kafka) answers matches it. Every
 * endpoint is called for its success and its main errors, and each answer is validated against the document fetched
 * from the server (status documented for the operation, body valid against the schema for that status, required
 * headers such as Retry-After present) by Atlassian's swagger-request-validator; each successful request is
 * validated against the documented request too. A response that drifts from the document fails here.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
class OpenApiContractTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String KEY = "contract-test-key";
    private static final String ADMIN_KEY = "contract-admin-key";
    private static final String JSON_TYPE = "application/json";
    private static final LocalServices.TestDatabase db = LocalServices.freshDatabase();

    /** The first row of the customer's test_data.csv, as its clients send it. */
    private static final String RECOGNITION = """
            {"regno_recognize": "А939НО196", "afts_regno_ai": "А939НО190", "recognition_accuracy": 6.4,
             "afts_regno_ai_score": 0.8689166903495789,
             "afts_regno_ai_char_scores": "[0.9998925924301147, 0.9999872446060181, 0.9999798536300659, 0.9999990463256836, 0.9988356232643127, 0.9998175501823425, 1.0, 0.999994158744812, 0.8702163696289062]",
             "afts_regno_ai_length_scores": "[3.2404470773350624e-10, 3.236617363011618e-10, 3.2367283853140805e-10, 3.2651523151905337e-10, 3.234087164738497e-10, 3.259402747701756e-10, 3.2362224011706076e-10, 4.545459564297971e-09, 2.996458192683349e-08, 1.0, 3.2479344214131345e-10]",
             "camera_type": "Стационарная", "camera_class": "Астра-Трафик", "time_check": "2021-08-01 09:02:59",
             "direction": 0}""";

    /** A bike-sharing hour: a July weekday at 8, clear, on hour.csv's scales. */
    private static final double[] HOUR = {3, 1, 7, 8, 0, 3, 1, 1, 0.7, 0.65, 0.6, 0.19};
    private static final List<String> FEATURES = List.of("season", "yr", "mnth", "hr", "holiday", "weekday",
            "workingday", "weathersit", "temp", "atemp", "hum", "windspeed");

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        db.springProperties().forEach((key, value) -> registry.add(key, () -> value));
        registry.add("gateway.api.api-keys", () -> KeyHashes.sha256(KEY));
        registry.add("gateway.api.admin-keys", () -> KeyHashes.sha256(ADMIN_KEY));
        registry.add("gateway.rentals.startup-retry", () -> "500ms");
    }

    @LocalServerPort
    int port;
    @Autowired
    ApiRoutes routes;
    @Autowired
    RentalsReadiness readiness;
    @Autowired
    ModelRegistry registry;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeEach
    void ready() {
        await("rentals readiness (migrations + base model)", Duration.ofSeconds(90), readiness::isReady);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The document itself

    @Test
    void theDocumentIsServedAsJsonAndYamlWithSwaggerUiAndTakesNoKey() throws Exception {
        Answer json = call("GET", "/v3/api-docs", Map.of(), null);
        assertThat(json.status()).isEqualTo(200);
        assertThat(json.contentType()).startsWith(JSON_TYPE);
        JsonNode document = JSON.readTree(json.body());
        assertThat(document.path("openapi").asString()).isEqualTo("3.0.3");
        assertThat(document.path("info").path("title").asString()).isEqualTo("ML inference gateway API");
        assertThat(document.path("components").path("securitySchemes").path("apiKey").path("name").asString())
                .isEqualTo(ApiKeyFilter.HEADER);
        assertThat(document.path("components").path("securitySchemes").path("adminKey").path("name").asString())
                .isEqualTo(ApiKeyFilter.ADMIN_HEADER);

        Answer yaml = call("GET", "/v3/api-docs.yaml", Map.of(), null);
        assertThat(yaml.status()).isEqualTo(200);
        assertThat(yaml.body()).contains("openapi: 3.0.3").contains("/v1/rentals/{userId}/predict:");

        Answer ui = call("GET", "/swagger-ui.html", Map.of(), null);
        assertThat(ui.status()).as("Swagger UI redirects to its page").isBetween(300, 399);
        String page = URI.create("http://127.0.0.1:" + port + "/").resolve(ui.header("Location")).getPath();
        Answer html = call("GET", page, Map.of(), null);
        assertThat(html.status()).isEqualTo(200);
        assertThat(html.body()).contains("swagger-ui");
        // The UI reads the document springdoc serves (not the petstore it ships with).
        Answer config = call("GET", "/v3/api-docs/swagger-config", Map.of(), null);
        assertThat(config.status()).isEqualTo(200);
        assertThat(JSON.readTree(config.body()).path("url").asString()).isEqualTo("/v3/api-docs");
    }

    /**
     * springdoc serves the file as written: nothing generated from the router function, actuator or anything else is
     * added, nothing is lost or altered on the way (the order of "required" lists aside; the version may be the
     * build's).
     */
    @Test
    void whatIsServedIsTheWrittenDocumentAndNothingElse() throws Exception {
        String yaml = new String(new ClassPathResource(OpenApiDocument.LOCATION).getInputStream().readAllBytes(),
                StandardCharsets.UTF_8);
        JsonNode written = JSON.readTree(Json.mapper().writeValueAsString(Yaml.mapper().readTree(yaml)));
        JsonNode served = document();
        ((ObjectNode) written.get("info")).remove("version");
        ((ObjectNode) served.get("info")).remove("version");
        assertThat(normalized(served)).isEqualTo(normalized(written));
    }

    /**
     * The set of (method, path template) in the document is the route table's: a route cannot be added without
     * documenting it, nor documented without existing. Each operation's security is the key its route takes.
     */
    @Test
    void theDocumentHasEveryRouteOfTheTableAndNoOther() throws Exception {
        JsonNode document = document();
        Set<String> documented = new TreeSet<>();
        Map<String, JsonNode> security = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> path : document.path("paths").properties()) {
            for (Map.Entry<String, JsonNode> operation : path.getValue().properties()) {
                if (!operation.getKey().equals("parameters")) {
                    String key = operation.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey();
                    documented.add(key);
                    JsonNode own = operation.getValue().get("security");
                    security.put(key, own != null ? own : document.path("security"));
                }
            }
        }
        Set<String> table = new TreeSet<>();
        for (Route route : routes.all()) {
            table.add(route.method().name() + " " + route.path());
        }
        assertThat(documented).as("operations in the OpenAPI document vs ApiRoutes").isEqualTo(table);

        for (Route route : routes.all()) {
            JsonNode schemes = security.get(route.method().name() + " " + route.path());
            List<String> names = new ArrayList<>();
            schemes.forEach(requirement -> requirement.propertyNames().forEach(names::add));
            List<String> expected = switch (route.access().name()) {
                case "CLIENT" -> List.of("apiKey");
                case "ADMIN" -> List.of("adminKey");
                default -> List.of(); // no key (the protocol's health probes)
            };
            assertThat(names).as("security of " + route).isEqualTo(expected);
        }
    }

    /** Every example in the document is valid against the schema it illustrates, requests and answers alike. */
    @Test
    void everyExampleInTheDocumentMatchesItsSchema() throws Exception {
        JsonNode document = document();
        OpenApiInteractionValidator validator = validator();
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (Map.Entry<String, JsonNode> path : document.path("paths").properties()) {
            String concrete = path.getKey().replace("{userId}", "alice").replace("{model}", "rentals")
                    .replace("{version}", "1");
            for (Map.Entry<String, JsonNode> entry : path.getValue().properties()) {
                String method = entry.getKey().toUpperCase(Locale.ROOT);
                JsonNode operation = entry.getValue();
                JsonNode requestBody = deref(document, operation.path("requestBody"));
                for (Map.Entry<String, JsonNode> example : examples(document, requestBody).entrySet()) {
                    SimpleRequest request = new SimpleRequest.Builder(method, concrete)
                            .withHeader(ApiKeyFilter.HEADER, KEY).withHeader(ApiKeyFilter.ADMIN_HEADER, ADMIN_KEY)
                            .withContentType(JSON_TYPE).withBody(JSON.writeValueAsString(example.getValue())).build();
                    collect(failures, method + " " + path.getKey() + " request example " + example.getKey(),
                            validator.validateRequest(request));
                    checked++;
                }
                for (Map.Entry<String, JsonNode> response : operation.path("responses").properties()) {
                    int status = Integer.parseInt(response.getKey());
                    for (Map.Entry<String, JsonNode> example : examples(document,
                            deref(document, response.getValue())).entrySet()) {
                        SimpleResponse answer = SimpleResponse.Builder.status(status).withContentType(JSON_TYPE)
                                .withHeader("Retry-After", "1").withBody(JSON.writeValueAsString(example.getValue()))
                                .build();
                        collect(failures, method + " " + path.getKey() + " " + status + " example " + example.getKey(),
                                validator.validateResponse(concrete, Request.Method.valueOf(method), answer));
                        checked++;
                    }
                }
            }
        }
        assertThat(failures).as("examples that do not match their schema").isEmpty();
        assertThat(checked).as("examples checked").isGreaterThan(60);
    }

    /** The check has teeth: answers that drifted from the document are refused, each for its reason. */
    @Test
    void theValidatorRefusesAnswersThatDriftedFromTheDocument() throws Exception {
        OpenApiInteractionValidator validator = validator();
        String path = "/v1/rentals/alice/predict";
        String good = """
                {"request_id":"01a23678-03eb-7fbe-bc06-1d208daee1e0","user_id":"alice","model_version":1,
                 "prediction":450.9729919433594}""";
        assertThat(validator.validateResponse(path, Request.Method.POST, answer(200, good)).hasErrors())
                .as("the control: a correct prediction").isFalse();

        assertThat(keys(validator.validateResponse(path, Request.Method.POST,
                answer(200, good.replace("450.9729919433594", "\"450.97\"")))))
                .as("prediction as a string").contains("validation.response.body.schema.type");
        assertThat(keys(validator.validateResponse(path, Request.Method.POST,
                answer(200, good.replace("\"prediction\"", "\"forecast\"")))))
                .as("a renamed field").contains("validation.response.body.schema.required",
                        "validation.response.body.schema.additionalProperties");
        assertThat(keys(validator.validateResponse(path, Request.Method.POST, answer(500, "{\"status\":\"fail\","
                + "\"message\":\"internal error\"}"))))
                .as("an undocumented status").contains("validation.response.status.unknown");
        assertThat(keys(validator.validateResponse(path, Request.Method.POST,
                SimpleResponse.Builder.status(503).withContentType(JSON_TYPE)
                        .withBody("{\"status\":\"fail\",\"message\":\"scoring capacity exhausted, retry later\"}")
                        .build())))
                .as("503 without Retry-After").contains("validation.response.header.missing");
        assertThat(keys(validator.validateResponse("/v2/models/rentals/infer", Request.Method.POST,
                answer(400, "{\"status\":\"fail\",\"message\":\"bad\"}"))))
                .as("the v1 envelope under /v2").contains("validation.response.body.schema.required");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Real answers

    /** Stores a challenger for {@code user} the way the retrainer stores one that lost; returns its version. */
    private long rejectedChallenger(String user) {
        ModelRecord base = registry.current(ModelRegistry.BASE_USER).block();
        return registry.storeRejected(TestModels.continued(user, base, null,
                BikeSharingData.where(h -> !h.isYear2011()).subList(0, 48), 2)).block().version();
    }

    /**
     * Every endpoint, for its success and its main errors, in an order that builds what later calls need (a forecast
     * before its actual, a rollback before the history that shows it). Each case checks the status it aims at, then
     * validates the answer (and for a success the request too); the last one checks that every documented operation
     * answered a success.
     */
    @TestFactory
    Stream<DynamicNode> everyEndpointAnswersAsDocumented() throws Exception {
        OpenApiInteractionValidator validator = validator();
        Set<String> succeeded = new LinkedHashSet<>();
        String user = "contract-" + UUID.randomUUID().toString().substring(0, 8);
        String rentalsRow = JSON.writeValueAsString(features(HOUR));
        Map<String, String> state = new LinkedHashMap<>();
        Case.Runner run = c -> exchange(c, validator, succeeded);
        return Stream.of(
                dynamicContainer("regno", Stream.of(
                        post("legacy /reg/", "/reg/").body(RECOGNITION).answers(200),
                        post("legacy /reg, the body double-encoded", "/reg").body(JSON.writeValueAsString(RECOGNITION))
                                .answers(200),
                        post("legacy without a key", "/reg/").noKey().body(RECOGNITION).answers(401),
                        post("legacy with direction 7", "/reg/")
                                .body(RECOGNITION.replace("\"direction\": 0", "\"direction\": 7"))
                                .answers(400, field("direction")),
                        post("predict", "/v1/regno/predict").body(RECOGNITION).answers(200),
                        post("predict as text/plain", "/v1/regno/predict").body(RECOGNITION)
                                .header("Content-Type", "text/plain").answers(415),
                        post("predict accepting only HTML", "/v1/regno/predict").body(RECOGNITION)
                                .header("Accept", "text/html").answers(406),
                        post("predict with a body over the limit", "/v1/regno/predict")
                                .body("{\"pad\":\"" + "x".repeat(300 * 1024) + "\"}").answers(413),
                        post("predict with explain=true", "/v1/regno/predict?explain=true").body(RECOGNITION)
                                .answers(400, body -> {
                                    assertThat(body.path("field").asString()).isEqualTo("explain");
                                    assertThat(body.path("message").asString())
                                            .startsWith("explanations are not available for the regno model");
                                }),
                        post("predict batch", "/v1/regno/predict/batch")
                                .body("{\"instances\":[" + RECOGNITION + "," + RECOGNITION + "]}").answers(200),
                        post("predict batch with explain=true", "/v1/regno/predict/batch?explain=true")
                                .body("{\"instances\":[" + RECOGNITION + "]}").answers(400, field("explain")),
                        post("predict batch of nothing", "/v1/regno/predict/batch").body("{\"instances\":[]}")
                                .answers(400, field("instances")))
                        .map(c -> c.test(run))),

                dynamicContainer("rentals", Stream.of(
                        post("predict", "/v1/rentals/" + user + "/predict").body(rentalsRow)
                                .answers(200, body -> state.put("request_id", body.path("request_id").asString())),
                        post("predict with explain=true", "/v1/rentals/" + user + "/predict?explain=true")
                                .body(rentalsRow).answers(200, body -> assertThat(body.has("explanation")).isTrue()),
                        post("predict with explain=false", "/v1/rentals/" + user + "/predict?explain=false")
                                .body(rentalsRow).answers(200, body -> assertThat(body.has("explanation")).isFalse()),
                        post("predict with explain=maybe", "/v1/rentals/" + user + "/predict?explain=maybe")
                                .body(rentalsRow).answers(400, field("explain")),
                        post("predict without hum", "/v1/rentals/" + user + "/predict")
                                .body(rentalsRow.replace(",\"hum\":0.6", "")).answers(400, field("features")),
                        post("predict for an invalid user id", "/v1/rentals/bad!user/predict").body(rentalsRow)
                                .answers(400, field("userId")),
                        post("predict without a key", "/v1/rentals/" + user + "/predict").noKey().body(rentalsRow)
                                .answers(401, field(ApiKeyFilter.HEADER)),
                        post("predict batch", "/v1/rentals/" + user + "/predict/batch")
                                .body("{\"instances\":[" + rentalsRow + "," + rentalsRow + "]}").answers(200),
                        post("predict batch without instances", "/v1/rentals/" + user + "/predict/batch").body("{}")
                                .answers(400, field("instances")),
                        get("the model serving the user", "/v1/rentals/" + user + "/model")
                                .answers(200, body -> state.put("base", body.path("version").asString())),
                        post("actuals", "/v1/rentals/actuals")
                                .body(() -> "{\"actuals\":[{\"request_id\":\"" + state.get("request_id")
                                        + "\",\"actual_value\":512,\"timestamp\":\"2012-07-04T08:00:00Z\"},"
                                        + "{\"request_id\":\"" + UUID.randomUUID() + "\",\"actual_value\":1}]}")
                                .answers(200, body -> assertThat(body.path("counts").path("stored").asInt()).isOne()),
                        post("actuals without a list", "/v1/rentals/actuals").body("{}").answers(400, field("actuals")),
                        post("actuals as malformed JSON", "/v1/rentals/actuals").body("{\"act").answers(400))
                        .map(c -> c.test(run))),

                dynamicContainer("model operations", Stream.of(
                        get("the models served", "/v1/models").answers(200, body -> assertThat(
                                body.path("models").valueStream().map(m -> m.path("name").asString()))
                                .containsExactly("regno", "rentals")),
                        get("the models served, without a key", "/v1/models").noKey().answers(401),
                        post("rollback to the base model", "/v1/admin/rentals/" + user + "/rollback").admin()
                                .body(() -> "{\"version\": " + state.get("base") + ", \"reason\": \"contract\"}")
                                .answers(200),
                        post("rollback without the admin key", "/v1/admin/rentals/" + user + "/rollback").noKey()
                                .body("{\"version\": 1}").answers(401, field(ApiKeyFilter.ADMIN_HEADER)),
                        post("rollback with a client key", "/v1/admin/rentals/" + user + "/rollback")
                                .body("{\"version\": 1}").answers(401, field(ApiKeyFilter.ADMIN_HEADER)),
                        post("rollback to a version that does not exist", "/v1/admin/rentals/" + user + "/rollback")
                                .admin().body("{\"version\": 999999999}").answers(404, field("version")),
                        post("rollback to version \"one\"", "/v1/admin/rentals/" + user + "/rollback").admin()
                                .body("{\"version\": \"one\"}").answers(400, field("version")),
                        post("promote a rejected challenger", "/v1/admin/rentals/" + user + "/promote").admin()
                                .body(() -> "{\"version\": " + rejectedChallenger(user) + ", \"reason\": \"contract\"}")
                                .answers(200, body -> assertThat(body.path("status").asString()).isEqualTo("promoted")),
                        post("promote a version that is no rejected challenger",
                                "/v1/admin/rentals/" + user + "/promote").admin().body(() -> "{\"version\": " + state.get("base") + "}")
                                .answers(404, field("version")),
                        post("promote with a client key", "/v1/admin/rentals/" + user + "/promote")
                                .body("{\"version\": 1}").answers(401, field(ApiKeyFilter.ADMIN_HEADER)),
                        get("history, with the rollback and the promotion", "/v1/rentals/" + user + "/models")
                                .answers(200, body -> assertThat(body.path("versions").valueStream()
                                        .map(v -> v.path("status").asString()))
                                        .containsExactly("active", "rejected", "active")),
                        get("history with limit=0", "/v1/rentals/" + user + "/models?limit=0")
                                .answers(400, field("limit")),
                        get("quality, with the actual", "/v1/rentals/" + user + "/quality?window=50")
                                .answers(200, body -> assertThat(body.path("actuals").asLong()).isOne()),
                        get("quality with window=x", "/v1/rentals/" + user + "/quality?window=x")
                                .answers(400, field("window")))
                        .map(c -> c.test(run))),

                dynamicContainer("Open Inference Protocol v2", Stream.of(
                        get("liveness, without a key", "/v2/health/live").noKey().answers(200),
                        get("readiness, without a key", "/v2/health/ready").noKey().answers(200),
                        get("server metadata", "/v2").answers(200),
                        get("server metadata without a key", "/v2").noKey().answers(401),
                        get("server metadata accepting only HTML", "/v2").header("Accept", "text/html").answers(406),
                        get("regno metadata", "/v2/models/regno")
                                .answers(200, body -> state.put("regno_version", body.path("versions").get(0).asString())),
                        get("rentals metadata", "/v2/models/rentals").answers(200),
                        get("metadata of an unknown model", "/v2/models/churn").answers(404),
                        get("regno metadata, by version", () -> "/v2/models/regno/versions/" + state.get("regno_version"))
                                .answers(200),
                        get("metadata of an unknown version", "/v2/models/regno/versions/nope").answers(404),
                        get("regno readiness", "/v2/models/regno/ready").answers(200),
                        get("rentals readiness, by version",
                                () -> "/v2/models/rentals/versions/" + state.get("base") + "/ready").answers(200),
                        get("readiness of an unknown model", "/v2/models/churn/ready").answers(404),
                        post("regno inference", "/v2/models/regno/infer").body(regnoInference()).answers(200,
                                body -> assertThat(body.path("id").asString()).isEqualTo("contract-regno")),
                        post("rentals inference, explained", "/v2/models/rentals/infer")
                                .body(rentalsInference("oip-" + user, true, HOUR)).answers(200, body -> {
                                    assertThat(body.path("id").asString()).isEqualTo("contract-42");
                                    assertThat(body.path("outputs").valueStream().map(o -> o.path("name").asString()))
                                            .contains("predictions", "request_id", "contributions");
                                }),
                        post("rentals inference by the version serving the user",
                                () -> "/v2/models/rentals/versions/" + state.get("base") + "/infer")
                                .body(rentalsInference("oip-" + user, false, HOUR)).answers(200),
                        post("inference by a version not serving the user",
                                "/v2/models/rentals/versions/999999999/infer")
                                .body(rentalsInference("oip-" + user, false, HOUR)).answers(404),
                        post("inference with 11 features", "/v2/models/rentals/infer")
                                .body(rentalsInference("oip-" + user, false, new double[11])).answers(400,
                                        body -> assertThat(body.path("error").asString()).contains("input 'features'")),
                        post("inference without user_id", "/v2/models/rentals/infer")
                                .body(rentalsInference(null, false, HOUR)).answers(400),
                        post("inference as malformed JSON", "/v2/models/regno/infer").body("{\"inputs\": [")
                                .answers(400),
                        post("inference of an unknown model", "/v2/models/churn/infer").body(regnoInference())
                                .answers(404),
                        post("inference as text/plain", "/v2/models/regno/infer").body(regnoInference())
                                .header("Content-Type", "text/plain").answers(415),
                        post("inference without a key", "/v2/models/regno/infer").noKey().body(regnoInference())
                                .answers(401))
                        .map(c -> c.test(run))),

                dynamicTest("every documented operation answered a success", () -> assertThat(succeeded)
                        .as("operations with a validated 2xx answer").containsAll(documentedOperations())));
    }

    /**
     * Sends {@code c}, requires its status, validates the answer (and for a success the request) against the
     * document, then runs the case's own check on the body.
     */
    private void exchange(Case c, OpenApiInteractionValidator validator, Set<String> succeeded) throws Exception {
        String target = c.pathAndQuery.get();
        String content = c.body.get();
        Answer answer = call(c.method, target, c.headers, content);
        assertThat(answer.status()).as(c.method + " " + target + " answered " + abbreviated(answer.body()))
                .isEqualTo(c.status);
        URI uri = URI.create(target);
        ValidationReport report = validator.validateResponse(uri.getRawPath(), Request.Method.valueOf(c.method),
                answer.forValidator());
        boolean success = c.status / 100 == 2;
        if (success) {
            SimpleRequest.Builder request = new SimpleRequest.Builder(c.method, uri.getRawPath());
            c.headers.forEach(request::withHeader);
            if (uri.getRawQuery() != null) {
                for (String pair : uri.getRawQuery().split("&")) {
                    String[] nameValue = pair.split("=", 2);
                    request.withQueryParam(nameValue[0], nameValue.length > 1 ? nameValue[1] : "");
                }
            }
            if (content != null) {
                request.withBody(content);
            }
            report = report.merge(validator.validateRequest(request.build()));
        }
        assertThat(report.hasErrors())
                .as(c.method + " " + target + " -> " + answer.status() + " " + abbreviated(answer.body()) + "\n"
                        + SimpleValidationReportFormat.getInstance().apply(report))
                .isFalse();
        if (success) {
            succeeded.add(c.method + " " + template(uri.getRawPath()));
        }
        c.check.accept(JSON.readTree(answer.body()));
    }

    private static String abbreviated(String body) {
        return body.length() <= 2000 ? body : body.substring(0, 2000) + "…";
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Cases

    private static Case get(String name, String path) {
        return new Case(name, "GET", () -> path);
    }

    private static Case get(String name, Lazy<String> path) {
        return new Case(name, "GET", path);
    }

    private static Case post(String name, String path) {
        return new Case(name, "POST", () -> path);
    }

    private static Case post(String name, Lazy<String> path) {
        return new Case(name, "POST", path);
    }

    private static Consumer<JsonNode> field(String name) {
        return body -> assertThat(body.path("field").asString()).as("field").isEqualTo(name);
    }

    /** A value computed when the case runs, from what earlier cases learnt. */
    @FunctionalInterface
    interface Lazy<T> {
        T get() throws Exception;
    }

    /**
     * One exchange: the request (the client key and, with a body, a JSON content type, unless told otherwise), the
     * status it must get and what else to check of the answer.
     */
    static final class Case {

        /** Sends a case and validates what comes back. */
        @FunctionalInterface
        interface Runner {
            void run(Case c) throws Exception;
        }

        final String name;
        final String method;
        final Lazy<String> pathAndQuery;
        final Map<String, String> headers = new LinkedHashMap<>(Map.of(ApiKeyFilter.HEADER, KEY));
        Lazy<String> body = () -> null;
        int status;
        Consumer<JsonNode> check = answer -> { };

        Case(String name, String method, Lazy<String> pathAndQuery) {
            this.name = name;
            this.method = method;
            this.pathAndQuery = pathAndQuery;
        }

        Case noKey() {
            headers.remove(ApiKeyFilter.HEADER);
            return this;
        }

        Case admin() {
            headers.remove(ApiKeyFilter.HEADER);
            headers.put(ApiKeyFilter.ADMIN_HEADER, ADMIN_KEY);
            return this;
        }

        Case header(String name, String value) {
            headers.put(name, value);
            return this;
        }

        Case body(String content) {
            return body(() -> content);
        }

        Case body(Lazy<String> content) {
            this.body = content;
            headers.putIfAbsent("Content-Type", JSON_TYPE);
            return this;
        }

        Case answers(int expected) {
            this.status = expected;
            return this;
        }

        Case answers(int expected, Consumer<JsonNode> then) {
            this.status = expected;
            this.check = then;
            return this;
        }

        DynamicTest test(Runner runner) {
            return dynamicTest(method + " " + name + " -> " + status, () -> runner.run(this));
        }
    }

    /** The route template a raw path belongs to, by the route table's own matcher. */
    private String template(String rawPath) {
        for (Route route : routes.all()) {
            if (route.matchesRaw(rawPath)) {
                return route.path();
            }
        }
        throw new AssertionError("no route matches " + rawPath);
    }

    private Set<String> documentedOperations() throws Exception {
        Set<String> operations = new TreeSet<>();
        for (Map.Entry<String, JsonNode> path : document().path("paths").properties()) {
            path.getValue().propertyNames().forEach(m -> operations.add(m.toUpperCase(Locale.ROOT) + " " + path.getKey()));
        }
        return operations;
    }

    private static ObjectNode features(double[] row) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode features = body.putObject("features");
        for (int i = 0; i < FEATURES.size(); i++) {
            features.put(FEATURES.get(i), row[i]);
        }
        return body;
    }

    /** The recognition as the protocol's ten one-element tensors. */
    private static String regnoInference() throws IOException {
        JsonNode recognition = JSON.readTree(RECOGNITION);
        ObjectNode request = JSON.createObjectNode();
        request.put("id", "contract-regno");
        var inputs = request.putArray("inputs");
        for (Map.Entry<String, JsonNode> field : recognition.properties()) {
            ObjectNode input = inputs.addObject();
            input.put("name", field.getKey());
            input.putArray("shape").add(1);
            JsonNode value = field.getValue();
            input.put("datatype", value.isString() ? "BYTES" : value.isIntegralNumber() ? "INT64" : "FP64");
            input.putArray("data").add(value);
        }
        return JSON.writeValueAsString(request);
    }

    /** One row of rentals features for {@code user} (none: no user_id), nested as [[…]]. */
    private static String rentalsInference(String user, boolean explain, double[] row) {
        ObjectNode request = JSON.createObjectNode();
        request.put("id", "contract-42");
        ObjectNode parameters = request.putObject("parameters");
        if (user != null) {
            parameters.put("user_id", user);
        }
        if (explain) {
            parameters.put("explain", true);
        }
        ObjectNode input = request.putArray("inputs").addObject();
        input.put("name", "features");
        input.putArray("shape").add(1).add(row.length);
        input.put("datatype", "FP32");
        var data = input.putArray("data").addArray();
        for (double value : row) {
            data.add(value);
        }
        return JSON.writeValueAsString(request);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The document, the validator, HTTP

    private JsonNode document() throws Exception {
        Answer answer = call("GET", "/v3/api-docs", Map.of(), null);
        assertThat(answer.status()).as("GET /v3/api-docs").isEqualTo(200);
        return JSON.readTree(answer.body());
    }

    /** A validator over the document as the server serves it; a trailing slash makes a different path, as here. */
    private OpenApiInteractionValidator validator() throws Exception {
        return OpenApiInteractionValidator.createForInlineApiSpecification(JSON.writeValueAsString(document()))
                .withStrictOperationPathMatching()
                .build();
    }

    /** {@code node}, or what its {@code $ref} points to within the document. */
    private static JsonNode deref(JsonNode document, JsonNode node) {
        while (node.has("$ref")) {
            node = document.at(node.get("$ref").asString().substring(1));
        }
        return node;
    }

    /** The JSON examples of a request body or response (its {@code example} and each of its {@code examples}). */
    private static Map<String, JsonNode> examples(JsonNode document, JsonNode bodyOrResponse) {
        Map<String, JsonNode> examples = new LinkedHashMap<>();
        JsonNode media = bodyOrResponse.path("content").path(JSON_TYPE);
        if (media.has("example")) {
            examples.put("example", media.get("example"));
        }
        for (Map.Entry<String, JsonNode> example : media.path("examples").properties()) {
            examples.put(example.getKey(), deref(document, example.getValue()).get("value"));
        }
        return examples;
    }

    /** The same JSON with every "required" list sorted: a set, whose order springdoc does not keep. */
    private static JsonNode normalized(JsonNode node) {
        if (node.isObject()) {
            ObjectNode copy = JSON.createObjectNode();
            for (Map.Entry<String, JsonNode> property : node.properties()) {
                JsonNode value = property.getValue();
                if (property.getKey().equals("required") && value.isArray()) {
                    ArrayNode sorted = copy.putArray("required");
                    value.valueStream().map(JsonNode::asString).sorted().forEach(sorted::add);
                } else {
                    copy.set(property.getKey(), normalized(value));
                }
            }
            return copy;
        }
        if (node.isArray()) {
            ArrayNode copy = JSON.createArrayNode();
            node.forEach(element -> copy.add(normalized(element)));
            return copy;
        }
        return node;
    }

    private static void collect(List<String> failures, String what, ValidationReport report) {
        if (report.hasErrors()) {
            failures.add(what + ":\n" + SimpleValidationReportFormat.getInstance().apply(report));
        }
    }

    private static List<String> keys(ValidationReport report) {
        return report.getMessages().stream().map(ValidationReport.Message::getKey).toList();
    }

    private static SimpleResponse answer(int status, String body) {
        return SimpleResponse.Builder.status(status).withContentType(JSON_TYPE).withBody(body).build();
    }

    private record Answer(int status, Map<String, List<String>> headers, String body) {

        String header(String name) {
            for (Map.Entry<String, List<String>> header : headers.entrySet()) {
                if (header.getKey().equalsIgnoreCase(name)) {
                    return header.getValue().get(0);
                }
            }
            return null;
        }

        String contentType() {
            String type = header("Content-Type");
            return type == null ? "" : type;
        }

        SimpleResponse forValidator() {
            SimpleResponse.Builder builder = SimpleResponse.Builder.status(status);
            headers.forEach((name, values) -> {
                if (!name.equals(":status")) {
                    builder.withHeader(name, values);
                }
            });
            return builder.withBody(body).build();
        }
    }

    private Answer call(String method, String pathAndQuery, Map<String, String> headers, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        headers.forEach(request::header);
        HttpResponse<String> response = http.send(request.build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Answer(response.statusCode(), response.headers().map(), response.body());
    }
}

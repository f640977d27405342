package io.mlgateway.modelops;

import static io.mlgateway.rentals.RentalsTestSupport.await;
import io.mlgateway.shared.testing.KeyHashes;
import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.notify.ModelRetrainedMessage;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.TestModels;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.rentals.RentalsReadiness;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A user's version history, live quality, rollback and promotion over HTTP, on the real PostgreSQL, Redis and Kafka.
 * Rollback and promotion take the admin key and only it; the quality endpoint's MAE is checked against one computed
 * from the predictions and actuals this test itself sent and got back.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
class ModelOperationsApiTest {

    private static final String KEY = "ops-test-key";
    private static final String ADMIN_KEY = "ops-admin-key";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private static List<BikeSharingData.Hour> hours;

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
    RentalsReadiness readiness;
    @Autowired
    ModelRegistry registry;

    private WebTestClient api;

    @BeforeAll
    static void data() {
        hours = BikeSharingData.where(h -> !h.isYear2011());
    }

    @BeforeEach
    void ready() {
        api = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(Duration.ofSeconds(30))
                .build();
        await("rentals readiness", Duration.ofSeconds(90), readiness::isReady);
    }

    private JsonNode exchange(HttpMethod method, String path, String header, String key, String body,
            HttpStatus expected) {
        WebTestClient.RequestBodySpec spec = api.method(method).uri(path).contentType(MediaType.APPLICATION_JSON);
        if (header != null) {
            spec = spec.header(header, key);
        }
        WebTestClient.RequestHeadersSpec<?> request = body == null ? spec : spec.bodyValue(body);
        byte[] bytes = request.exchange().expectStatus().isEqualTo(expected).expectBody().returnResult()
                .getResponseBody();
        return JSON.readTree(bytes);
    }

    private JsonNode get(String path, HttpStatus expected) {
        return exchange(HttpMethod.GET, path, "x-api-key", KEY, null, expected);
    }

    private JsonNode predict(String user, BikeSharingData.Hour hour) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode features = body.putObject("features");
        for (int i = 0; i < RentalFeatures.COUNT; i++) {
            features.put(RentalFeatures.NAMES.get(i), hour.features()[i]);
        }
        return exchange(HttpMethod.POST, "/v1/rentals/" + user + "/predict", "x-api-key", KEY,
                JSON.writeValueAsString(body), HttpStatus.OK);
    }

    private JsonNode rollBack(String user, String body, String header, String key, HttpStatus expected) {
        return exchange(HttpMethod.POST, "/v1/admin/rentals/" + user + "/rollback", header, key, body, expected);
    }

    private JsonNode rollBack(String user, String body, HttpStatus expected) {
        return rollBack(user, body, "x-admin-key", ADMIN_KEY, expected);
    }

    @Test
    void rollbackTakesTheAdminKeyAndOnlyIt() {
        String user = "ops-auth-" + UUID.randomUUID().toString().substring(0, 8);
        String body = "{\"version\": 1}";
        assertThat(rollBack(user, body, null, null, HttpStatus.UNAUTHORIZED).get("field").stringValue())
                .isEqualTo("x-admin-key");
        // The client key opens every other endpoint but not this one, in either header.
        assertThat(rollBack(user, body, "x-api-key", KEY, HttpStatus.UNAUTHORIZED).get("field").stringValue())
                .isEqualTo("x-admin-key");
        assertThat(rollBack(user, body, "x-admin-key", KEY, HttpStatus.UNAUTHORIZED).get("message").stringValue())
                .isEqualTo("invalid x-admin-key");
        // And the admin key is no client key.
        exchange(HttpMethod.GET, "/v1/rentals/" + user + "/models", "x-api-key", ADMIN_KEY, null,
                HttpStatus.UNAUTHORIZED);

        assertThat(rollBack(user, "{\"version\": \"one\"}", HttpStatus.BAD_REQUEST).get("field").stringValue())
                .isEqualTo("version");
        assertThat(rollBack(user, "{\"version\": 1, \"reason\": 5}", HttpStatus.BAD_REQUEST).get("field")
                .stringValue()).isEqualTo("reason");
        assertThat(rollBack(user, "{\"version\": 999999}", HttpStatus.NOT_FOUND).get("field").stringValue())
                .isEqualTo("version");
    }

    @Test
    void rollbackServesTheEarlierModelAgainAsANewVersionAndAnnouncesIt() throws Exception {
        String user = "ops-rb-" + UUID.randomUUID().toString().substring(0, 8);
        String other = "ops-other-" + UUID.randomUUID().toString().substring(0, 8);
        ModelRecord base = registry.current(ModelRegistry.BASE_USER).block();
        ModelRecord v1 = registry.store(TestModels.continued(user, base, null, hours.subList(0, 60), 3), null).block();
        ModelRecord v2 = registry.store(TestModels.continued(user, base, v1, hours.subList(60, 120), 4), v1.version())
                .block();
        ModelRecord foreign = registry.store(TestModels.continued(other, base, null, hours.subList(0, 60), 2), null)
                .block();
        BikeSharingData.Hour hour = hours.get(500);
        assertThat(predict(user, hour).get("model_version").longValue()).isEqualTo(v2.version());

        // Another user's version cannot be restored.
        rollBack(user, "{\"version\": " + foreign.version() + "}", HttpStatus.NOT_FOUND);

        JsonNode answer = rollBack(user, "{\"version\": " + v1.version() + ", \"reason\": \"v2 over-forecasts\"}",
                HttpStatus.OK);
        long v3 = answer.get("version").longValue();
        assertThat(v3).isGreaterThan(v2.version());
        assertThat(answer.get("restored_version").longValue()).isEqualTo(v1.version());
        assertThat(answer.get("status").stringValue()).isEqualTo("rolled_back");

        // This gateway serves it at once, and it predicts exactly what v1 predicted.
        await("rollback served", Duration.ofSeconds(10),
                () -> predict(user, hour).get("model_version").longValue() == v3);
        assertThat(predict(user, hour).get("prediction").doubleValue())
                .isEqualTo((double) TestModels.predict(base, v1, hour.features()));

        // The announcement is queued in the same transaction (the retrainer's relay sends it to every gateway).
        try (Connection c = db.jdbc();
                ResultSet rs = c.createStatement().executeQuery("SELECT status, version, reason FROM retrain_outbox"
                        + " WHERE user_id = '" + user + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(ModelRetrainedMessage.ROLLED_BACK);
            assertThat(rs.getLong(2)).isEqualTo(v3);
            assertThat(rs.getString(3)).isEqualTo("rolled back to version " + v1.version() + ": v2 over-forecasts");
            assertThat(rs.next()).isFalse();
        }

        // The history lists all three, newest first, the rollback current and naming what it restored.
        JsonNode history = get("/v1/rentals/" + user + "/models", HttpStatus.OK);
        List<Long> versions = new ArrayList<>();
        history.get("versions").forEach(v -> versions.add(v.get("version").longValue()));
        assertThat(versions).containsExactly(v3, v2.version(), v1.version());
        JsonNode newest = history.get("versions").get(0);
        assertThat(newest.get("current").booleanValue()).isTrue();
        assertThat(newest.get("status").stringValue()).isEqualTo("active");
        assertThat(newest.get("parent_version").longValue()).isEqualTo(v2.version());
        assertThat(newest.get("metrics").get("rolled_back_to").longValue()).isEqualTo(v1.version());
        assertThat(newest.get("own_trees").intValue()).isEqualTo(3);
        assertThat(history.get("versions").get(1).get("current").booleanValue()).isFalse();

        // Back to the shared base: a version with no trees of its own.
        long v4 = rollBack(user, "{\"version\": " + base.version() + "}", HttpStatus.OK).get("version").longValue();
        await("base served again", Duration.ofSeconds(10),
                () -> predict(user, hour).get("model_version").longValue() == v4);
        assertThat(predict(user, hour).get("prediction").doubleValue())
                .isEqualTo((double) TestModels.predict(base, base, hour.features()));
    }

    private JsonNode promote(String user, String body, String header, String key, HttpStatus expected) {
        return exchange(HttpMethod.POST, "/v1/admin/rentals/" + user + "/promote", header, key, body, expected);
    }

    @Test
    void promotionServesARejectedChallengerAsANewVersionAndAnnouncesIt() throws Exception {
        String user = "ops-pr-" + UUID.randomUUID().toString().substring(0, 8);
        String other = "ops-other-" + UUID.randomUUID().toString().substring(0, 8);
        ModelRecord base = registry.current(ModelRegistry.BASE_USER).block();
        ModelRecord v1 = registry.store(TestModels.continued(user, base, null, hours.subList(0, 60), 3), null).block();
        ModelRecord rejected = registry.storeRejected(TestModels.continued(user, base, v1, hours.subList(60, 120), 5))
                .block();
        ModelRecord foreign = registry.storeRejected(TestModels.continued(other, base, null, hours.subList(0, 60), 2))
                .block();
        BikeSharingData.Hour hour = hours.get(500);
        assertThat(predict(user, hour).get("model_version").longValue()).isEqualTo(v1.version());

        String body = "{\"version\": " + rejected.version() + ", \"reason\": \"validated by hand on July\"}";
        // The admin key and only it.
        assertThat(promote(user, body, "x-api-key", KEY, HttpStatus.UNAUTHORIZED).get("field").stringValue())
                .isEqualTo("x-admin-key");
        // Only the user's own rejected challengers: not an active version, not another user's, and a rollback
        // cannot serve a rejected one.
        assertThat(promote(user, "{\"version\": " + v1.version() + "}", "x-admin-key", ADMIN_KEY,
                HttpStatus.NOT_FOUND).get("message").stringValue()).contains("rejected challenger");
        promote(user, "{\"version\": " + foreign.version() + "}", "x-admin-key", ADMIN_KEY, HttpStatus.NOT_FOUND);
        rollBack(user, "{\"version\": " + rejected.version() + "}", HttpStatus.NOT_FOUND);
        assertThat(promote(user, "{\"version\": 0}", "x-admin-key", ADMIN_KEY, HttpStatus.BAD_REQUEST).get("field")
                .stringValue()).isEqualTo("version");
        assertThat(predict(user, hour).get("model_version").longValue()).as("nothing changed").isEqualTo(v1.version());

        JsonNode answer = promote(user, body, "x-admin-key", ADMIN_KEY, HttpStatus.OK);
        long v3 = answer.get("version").longValue();
        assertThat(v3).isGreaterThan(rejected.version());
        assertThat(answer.get("promoted_version").longValue()).isEqualTo(rejected.version());
        assertThat(answer.get("status").stringValue()).isEqualTo(ModelRetrainedMessage.PROMOTED);

        // Served at once by this gateway, predicting exactly what the challenger predicts.
        await("promotion served", Duration.ofSeconds(10),
                () -> predict(user, hour).get("model_version").longValue() == v3);
        assertThat(predict(user, hour).get("prediction").doubleValue())
                .isEqualTo((double) TestModels.predict(base, rejected, hour.features()));

        try (Connection c = db.jdbc();
                ResultSet rs = c.createStatement().executeQuery("SELECT status, version, reason FROM retrain_outbox"
                        + " WHERE user_id = '" + user + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(ModelRetrainedMessage.PROMOTED);
            assertThat(rs.getLong(2)).isEqualTo(v3);
            assertThat(rs.getString(3))
                    .isEqualTo("promoted rejected version " + rejected.version() + ": validated by hand on July");
            assertThat(rs.next()).isFalse();
        }

        // The history keeps the challenger as it was (rejected) and shows the new head copying it.
        JsonNode versions = get("/v1/rentals/" + user + "/models", HttpStatus.OK).get("versions");
        assertThat(versions).hasSize(3);
        JsonNode newest = versions.get(0);
        assertThat(newest.get("version").longValue()).isEqualTo(v3);
        assertThat(newest.get("current").booleanValue()).isTrue();
        assertThat(newest.get("status").stringValue()).isEqualTo("active");
        assertThat(newest.get("parent_version").longValue()).isEqualTo(v1.version());
        assertThat(newest.get("metrics").get("promoted_from").longValue()).isEqualTo(rejected.version());
        assertThat(newest.get("own_trees").intValue()).isEqualTo(rejected.ownTrees()).isEqualTo(8);
        assertThat(versions.get(1).get("status").stringValue()).isEqualTo("rejected");
    }

    @Test
    void qualityIsTheMaeOfTheServedPredictionsOverTheLatestActuals() {
        String user = "ops-q-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, Double> errors = new HashMap<>();
        List<String> order = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            BikeSharingData.Hour hour = hours.get(1000 + i);
            JsonNode p = predict(user, hour);
            String id = p.get("request_id").stringValue();
            errors.put(id, Math.abs(p.get("prediction").doubleValue() - hour.count()));
            order.add(id);
            JsonNode stored = exchange(HttpMethod.POST, "/v1/rentals/actuals", "x-api-key", KEY,
                    "{\"actuals\":[{\"request_id\":\"" + id + "\",\"actual_value\":" + hour.count() + "}]}",
                    HttpStatus.OK);
            assertThat(stored.toString()).contains("\"stored\":1");
        }
        // Over all 30, and over the latest 10 only (actuals count in arrival order).
        JsonNode all = get("/v1/rentals/" + user + "/quality?window=100", HttpStatus.OK);
        assertThat(all.get("actuals").longValue()).isEqualTo(30);
        assertThat(all.get("mae").doubleValue()).isCloseTo(
                errors.values().stream().mapToDouble(d -> d).average().orElseThrow(), Offset.offset(1e-3));
        assertThat(all.get("by_version")).hasSize(1);
        JsonNode latest = get("/v1/rentals/" + user + "/quality?window=10", HttpStatus.OK);
        assertThat(latest.get("actuals").longValue()).isEqualTo(10);
        assertThat(latest.get("mae").doubleValue()).isCloseTo(
                order.subList(20, 30).stream().mapToDouble(errors::get).average().orElseThrow(), Offset.offset(1e-3));

        JsonNode none = get("/v1/rentals/nobody-here/quality", HttpStatus.OK);
        assertThat(none.get("actuals").longValue()).isZero();
        assertThat(none.get("mae").isNull()).isTrue();
        assertThat(get("/v1/rentals/" + user + "/quality?window=0", HttpStatus.BAD_REQUEST).get("field")
                .stringValue()).isEqualTo("window");
    }
}

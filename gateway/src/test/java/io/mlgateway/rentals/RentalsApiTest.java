package io.mlgateway.rentals;

import static io.mlgateway.rentals.RentalsTestSupport.JSON;
import static io.mlgateway.rentals.RentalsTestSupport.await;
import static io.mlgateway.rentals.RentalsTestSupport.body;
import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.modelstore.ModelFormat;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.TestModels;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.shared.training.BoosterTrainer;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** Rentals end to end on the real PostgreSQL, Redis and Kafka, in a schema of its own. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
class RentalsApiTest {

    private static final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private static List<BikeSharingData.Hour> hours;

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        RentalsTestSupport.properties(db).forEach((k, v) -> registry.add(k, () -> v));
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
        hours = BikeSharingData.load();
    }

    @BeforeEach
    void ready() {
        api = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(Duration.ofSeconds(30)).build();
        await("rentals readiness (migrations + base model)", Duration.ofSeconds(90), readiness::isReady);
    }

    private JsonNode post(String path, String body, HttpStatus expected) {
        byte[] bytes = api.post().uri(path).header("x-api-key", "rentals-test-key").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(body).exchange().expectStatus().isEqualTo(expected).expectBody().returnResult().getResponseBody();
        return JSON.readTree(bytes);
    }

    @Test
    void userWithoutAModelIsServedTheBaseModelAndEveryPredictionIsLogged() throws Exception {
        String user = "fresh-" + UUID.randomUUID().toString().substring(0, 8);
        BikeSharingData.Hour hour = hours.get(12_000);
        JsonNode answer = post("/v1/rentals/" + user + "/predict", JSON.writeValueAsString(body(hour)), HttpStatus.OK);

        ModelRecord base = registry.current(ModelRegistry.BASE_USER).block();
        assertThat(answer.get("user_id").stringValue()).isEqualTo(user);
        assertThat(answer.get("model_version").longValue()).isEqualTo(base.version());
        assertThat((float) answer.get("prediction").doubleValue())
                .isEqualTo(TestModels.predict(base, base, hour.features()));
        String requestId = answer.get("request_id").stringValue();
        assertThat(UUID.fromString(requestId).version()).isEqualTo(7); // time-ordered: see RequestIds

        await("prediction row", Duration.ofSeconds(10), () ->
                db.count("SELECT count(*) FROM rental_predictions WHERE request_id = '" + requestId + "'") == 1);
        try (var c = db.jdbc(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT user_id, model_version, features, prediction FROM rental_predictions WHERE request_id = '"
                        + requestId + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString("user_id")).isEqualTo(user);
            assertThat(rs.getLong("model_version")).isEqualTo(base.version());
            Float[] logged = (Float[]) rs.getArray("features").getArray();
            for (int i = 0; i < RentalFeatures.COUNT; i++) {
                assertThat(logged[i]).isEqualTo(hour.features()[i]);
            }
            assertThat((float) rs.getDouble("prediction")).isEqualTo((float) answer.get("prediction").doubleValue());
        }

        JsonNode info = JSON.readTree(api.get().uri("/v1/rentals/" + user + "/model").header("x-api-key", "rentals-test-key")
                .exchange().expectStatus().isOk().expectBody().returnResult().getResponseBody());
        assertThat(info.get("base").booleanValue()).isTrue();
        assertThat(info.get("version").longValue()).isEqualTo(base.version());
        assertThat(info.get("trees").intValue()).isEqualTo(BoosterTrainer.BASE_ROUNDS);
        assertThat(info.get("own_trees").intValue()).isEqualTo(BoosterTrainer.BASE_ROUNDS);
        assertThat(info.get("base_version").isNull()).isTrue();
        assertThat(info.get("metrics").get("mae_2011").doubleValue()).isPositive();
    }

    @Test
    void actualsAreStoredOncePerLoggedPrediction() throws Exception {
        String user = "actuals-" + UUID.randomUUID().toString().substring(0, 8);
        String id = post("/v1/rentals/" + user + "/predict", JSON.writeValueAsString(body(hours.get(100))), HttpStatus.OK)
                .get("request_id").stringValue();
        String unknown = UUID.randomUUID().toString();
        // Sent at once: the prediction may still be in the log buffer, the endpoint waits for it.
        String request = """
                {"actuals":[
                  {"request_id":"%s","actual_value":42,"timestamp":"2012-06-01T08:00:00Z"},
                  {"request_id":"%s","actual_value":43},
                  {"request_id":"%s","actual_value":1},
                  {"request_id":"not-a-uuid","actual_value":1},
                  {"request_id":"%s","actual_value":-1}]}""".formatted(id, id, unknown, UUID.randomUUID());
        JsonNode result = post("/v1/rentals/actuals", request, HttpStatus.OK);
        List<String> statuses = result.get("results").valueStream().map(r -> r.get("status").stringValue()).toList();
        assertThat(statuses).containsExactly("stored", "duplicate", "unknown_request_id", "invalid", "invalid");
        assertThat(result.get("counts").get("stored").intValue()).isEqualTo(1);

        // Sending it again later is a duplicate too.
        JsonNode again = post("/v1/rentals/actuals",
                "{\"actuals\":[{\"request_id\":\"" + id + "\",\"actual_value\":42}]}", HttpStatus.OK);
        assertThat(again.get("results").get(0).get("status").stringValue()).isEqualTo("duplicate");

        try (var c = db.jdbc(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT user_id, actual_value, \"timestamp\" FROM actual_rentals WHERE request_id = '" + id + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString("user_id")).isEqualTo(user);
            assertThat(rs.getDouble("actual_value")).isEqualTo(42.0);
            assertThat(rs.getObject("timestamp", java.time.OffsetDateTime.class).toInstant())
                    .isEqualTo(java.time.Instant.parse("2012-06-01T08:00:00Z"));
            assertThat(rs.next()).isFalse();
        }
    }

    @Test
    void userWithItsOwnModelIsServedItAndRedisHoldsIt() throws Exception {
        String user = "own-" + UUID.randomUUID().toString().substring(0, 8);
        ModelRecord base = registry.current(ModelRegistry.BASE_USER).block();
        ModelRecord stored = registry.store(TestModels.continued(user, base, null, hours.subList(9000, 9050), 3), null)
                .block();

        BikeSharingData.Hour hour = hours.get(9010);
        JsonNode answer = post("/v1/rentals/" + user + "/predict", JSON.writeValueAsString(body(hour)), HttpStatus.OK);
        assertThat(answer.get("model_version").longValue()).isEqualTo(stored.version());
        assertThat((float) answer.get("prediction").doubleValue())
                .isEqualTo(TestModels.predict(base, stored, hour.features()));

        RedisClient client = RedisClient.create(LocalServices.redisUri());
        try (StatefulRedisConnection<String, String> redis = client.connect()) {
            await("model:" + user + " in Redis", Duration.ofSeconds(5), () -> redis.sync().exists("model:" + user) == 1);
            assertThat(redis.sync().hget("model:" + user, "version")).isEqualTo(Long.toString(stored.version()));
            assertThat(redis.sync().pttl("model:" + user)).isPositive();
            // Redis holds the compact form: the user's 3 own trees, not the base's 200.
            assertThat(redis.sync().hget("model:" + user, "format")).isEqualTo(ModelFormat.TREES);
            assertThat(redis.sync().hstrlen("model:" + user, "bytes")).isEqualTo(stored.bytes().length).isLessThan(5_000);
        } finally {
            client.shutdown();
        }

        JsonNode info = JSON.readTree(api.get().uri("/v1/rentals/" + user + "/model").header("x-api-key", "rentals-test-key")
                .exchange().expectStatus().isOk().expectBody().returnResult().getResponseBody());
        assertThat(info.get("base").booleanValue()).isFalse();
        assertThat(info.get("trees").intValue()).isEqualTo(base.numTrees() + 3);
        assertThat(info.get("own_trees").intValue()).isEqualTo(3);
        assertThat(info.get("base_version").longValue()).isEqualTo(base.version());
    }

    @Test
    void batchAnswersInOrderAndInvalidInputIsA400NamingIt() throws Exception {
        String user = "batch-user";
        ObjectNode batch = JSON.createObjectNode();
        var instances = batch.putArray("instances");
        for (int i = 0; i < 5; i++) {
            instances.add(body(hours.get(3000 + i)));
        }
        JsonNode results = post("/v1/rentals/" + user + "/predict/batch", JSON.writeValueAsString(batch), HttpStatus.OK)
                .get("results");
        assertThat(results.size()).isEqualTo(5);
        ModelRecord base = registry.current(ModelRegistry.BASE_USER).block();
        for (int i = 0; i < 5; i++) {
            assertThat((float) results.get(i).get("prediction").doubleValue()).isEqualTo(
                    TestModels.predict(base, base, hours.get(3000 + i).features()));
        }

        ObjectNode missing = body(hours.get(1));
        ((ObjectNode) missing.get("features")).remove("hum");
        assertThat(post("/v1/rentals/u1/predict", JSON.writeValueAsString(missing), HttpStatus.BAD_REQUEST)
                .get("message").stringValue()).contains("features").contains("hum");
        ObjectNode extra = body(hours.get(1));
        ((ObjectNode) extra.get("features")).put("casual", 3);
        assertThat(post("/v1/rentals/u1/predict", JSON.writeValueAsString(extra), HttpStatus.BAD_REQUEST)
                .get("message").stringValue()).contains("casual");
        ObjectNode text = body(hours.get(1));
        ((ObjectNode) text.get("features")).put("temp", "warm");
        assertThat(post("/v1/rentals/u1/predict", JSON.writeValueAsString(text), HttpStatus.BAD_REQUEST)
                .get("message").stringValue()).contains("temp");
        ObjectNode nan = body(hours.get(1));
        ((ObjectNode) nan.get("features")).put("temp", 1e300);
        assertThat(post("/v1/rentals/u1/predict", JSON.writeValueAsString(nan), HttpStatus.BAD_REQUEST)
                .get("message").stringValue()).contains("temp");
        assertThat(post("/v1/rentals/_base/predict", JSON.writeValueAsString(body(hours.get(1))), HttpStatus.BAD_REQUEST)
                .get("field").stringValue()).isEqualTo("userId");
        ObjectNode bad = JSON.createObjectNode();
        bad.putArray("instances").add(body(hours.get(1))).add(missing);
        assertThat(post("/v1/rentals/u1/predict/batch", JSON.writeValueAsString(bad), HttpStatus.BAD_REQUEST)
                .get("field").stringValue()).isEqualTo("instances[1].features");
    }

    /**
     * Behind a balancer an actual may reach another instance than its prediction did while that instance still
     * buffers the prediction (here: the row appears 500 ms later, written "by another instance"). The actual is
     * tried again and stored; a young id never written answers 503 to be retried, not unknown_request_id; an old
     * one is unknown at once.
     */
    @Test
    void anActualWhosePredictionIsStillBufferedElsewhereIsTriedAgainNotAnsweredUnknown() throws Exception {
        long base = registry.current(ModelRegistry.BASE_USER).block().version();
        UUID elsewhere = io.mlgateway.inferencelog.RequestIds.next();
        var otherInstance = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        try {
            otherInstance.schedule(() -> {
                try (var c = db.jdbc(); var insert = c.prepareStatement("INSERT INTO rental_predictions"
                        + " (request_id, user_id, model_version, features, prediction, created_at)"
                        + " VALUES (?, 'elsewhere', ?, ?, 7.5, now())")) {
                    insert.setObject(1, elsewhere);
                    insert.setLong(2, base);
                    insert.setArray(3, c.createArrayOf("real", new Float[RentalFeatures.COUNT]));
                    insert.executeUpdate();
                }
                return null;
            }, 500, java.util.concurrent.TimeUnit.MILLISECONDS);
            long started = System.nanoTime();
            JsonNode stored = post("/v1/rentals/actuals", "{\"actuals\":[{\"request_id\":\"" + elsewhere
                    + "\",\"actual_value\":9}]}", HttpStatus.OK);
            assertThat(stored.at("/results/0/status").stringValue()).isEqualTo("stored");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("answered once the row was there")
                    .isGreaterThanOrEqualTo(Duration.ofMillis(450));
        } finally {
            otherInstance.shutdownNow();
        }

        UUID neverWritten = io.mlgateway.inferencelog.RequestIds.next();
        api.post().uri("/v1/rentals/actuals").header("x-api-key", "rentals-test-key")
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"actuals\":[{\"request_id\":\"" + neverWritten + "\",\"actual_value\":9}]}")
                .exchange().expectStatus().isEqualTo(HttpStatus.SERVICE_UNAVAILABLE)
                .expectHeader().exists("Retry-After")
                .expectBody().jsonPath("$.message").value(m -> assertThat((String) m).contains(neverWritten.toString()));

        long hourAgo = System.currentTimeMillis() - Duration.ofHours(1).toMillis();
        UUID old = new UUID((hourAgo << 16) | 0x7000L | 0x123L, 0x8000000000000001L);
        JsonNode unknown = post("/v1/rentals/actuals", "{\"actuals\":[{\"request_id\":\"" + old
                + "\",\"actual_value\":9}]}", HttpStatus.OK);
        assertThat(unknown.at("/results/0/status").stringValue()).isEqualTo("unknown_request_id");
    }
}

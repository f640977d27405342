package io.mlgateway.retrain;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.testing.AppProcess;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.TestModels;
import io.mlgateway.shared.training.BikeSharingData;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A rollback or a promotion asked of one gateway switches every gateway: two packaged gateways (their own processes,
 * the periodic version check off, so only the announcement can explain a switch) and the retrainer relaying the
 * announcement the operation queued.
 */
class RollbackEndToEndTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private static GatewayProcess first;
    private static GatewayProcess second;
    private static ConfigurableApplicationContext retrainer;

    @BeforeAll
    static void start() throws Exception {
        Map<String, String> environment = new HashMap<>(AppProcess.services(db));
        environment.put("GATEWAY_MODEL_CACHE_VERSION_CHECK_INTERVAL", "10m");
        environment.put("GATEWAY_RENTALS_STARTUP_RETRY", "500ms");
        CompletableFuture<GatewayProcess> a = CompletableFuture.supplyAsync(() -> start(environment));
        CompletableFuture<GatewayProcess> b = CompletableFuture.supplyAsync(() -> start(environment));
        first = a.join();
        second = b.join();
        retrainer = RetrainerApps.start(db, "--retrainer.outbox-interval=500ms");
        // The base model comes from the retrainer; a gateway scores rentals once it has read it.
        RetrainFixtures.await("both gateways ready", Duration.ofSeconds(120), () -> first.isReady() && second.isReady());
    }

    private static GatewayProcess start(Map<String, String> environment) {
        try {
            return GatewayProcess.start(environment);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (retrainer != null) {
            retrainer.close();
        }
        if (first != null) {
            first.close();
        }
        if (second != null) {
            second.close();
        }
    }

    private static JsonNode predict(GatewayProcess gateway, String user, BikeSharingData.Hour hour) throws Exception {
        StringBuilder json = new StringBuilder("{\"features\":{");
        for (int i = 0; i < RentalFeatures.COUNT; i++) {
            json.append(i == 0 ? "" : ",").append('"').append(RentalFeatures.NAMES.get(i)).append("\":")
                    .append(hour.features()[i]);
        }
        HttpResponse<String> response = gateway.post("/v1/rentals/" + user + "/predict", json.append("}}").toString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    private static long servedVersion(GatewayProcess gateway, String user, BikeSharingData.Hour hour) {
        try {
            return predict(gateway, user, hour).get("model_version").longValue();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aRollbackAskedOfOneGatewaySwitchesEveryGateway() throws Exception {
        String user = "rollback-" + UUID.randomUUID().toString().substring(0, 8);
        List<BikeSharingData.Hour> hours = BikeSharingData.where(h -> !h.isYear2011());
        BikeSharingData.Hour hour = hours.get(700);
        ModelRecord v1;
        ModelRecord v2;
        try (RetrainFixtures.Instance setup = new RetrainFixtures.Instance(db, "setup")) {
            RetrainFixtures.await("the base model", Duration.ofSeconds(120),
                    () -> setup.registry.current(ModelRegistry.BASE_USER).blockOptional().isPresent());
            ModelRecord base = setup.registry.current(ModelRegistry.BASE_USER).block();
            v1 = setup.registry.store(TestModels.continued(user, base, null, hours.subList(0, 60), 3), null).block();
            v2 = setup.registry.store(TestModels.continued(user, base, v1, hours.subList(60, 120), 4), v1.version())
                    .block();
        }
        // Both gateways serve v2 from memory.
        assertThat(predict(first, user, hour).get("model_version").longValue()).isEqualTo(v2.version());
        assertThat(predict(second, user, hour).get("model_version").longValue()).isEqualTo(v2.version());

        HttpResponse<String> answer = first.admin("/v1/admin/rentals/" + user + "/rollback",
                "{\"version\": " + v1.version() + "}");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        everyGatewayServes(user, hour, JSON.readTree(answer.body()).get("version").longValue(), v1, "rolled_back");
    }

    @Test
    void aPromotionAskedOfOneGatewaySwitchesEveryGateway() throws Exception {
        String user = "promotion-" + UUID.randomUUID().toString().substring(0, 8);
        List<BikeSharingData.Hour> hours = BikeSharingData.where(h -> !h.isYear2011());
        BikeSharingData.Hour hour = hours.get(700);
        ModelRecord v1;
        ModelRecord rejected;
        try (RetrainFixtures.Instance setup = new RetrainFixtures.Instance(db, "setup")) {
            RetrainFixtures.await("the base model", Duration.ofSeconds(120),
                    () -> setup.registry.current(ModelRegistry.BASE_USER).blockOptional().isPresent());
            ModelRecord base = setup.registry.current(ModelRegistry.BASE_USER).block();
            v1 = setup.registry.store(TestModels.continued(user, base, null, hours.subList(0, 60), 3), null).block();
            rejected = setup.registry.storeRejected(TestModels.continued(user, base, v1, hours.subList(60, 120), 4))
                    .block();
        }
        assertThat(predict(first, user, hour).get("model_version").longValue()).isEqualTo(v1.version());
        assertThat(predict(second, user, hour).get("model_version").longValue()).isEqualTo(v1.version());

        HttpResponse<String> answer = first.admin("/v1/admin/rentals/" + user + "/promote",
                "{\"version\": " + rejected.version() + "}");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        everyGatewayServes(user, hour, JSON.readTree(answer.body()).get("version").longValue(), rejected, "promoted");
    }

    /**
     * Both gateways come to serve {@code version}, a copy of {@code copied}, predicting exactly what it predicts; the
     * second logged the announcement with its {@code status}.
     */
    private static void everyGatewayServes(String user, BikeSharingData.Hour hour, long version, ModelRecord copied,
            String status) throws Exception {
        RetrainFixtures.await("the first gateway serving " + version, Duration.ofSeconds(30),
                () -> servedVersion(first, user, hour) == version);
        RetrainFixtures.await("the second gateway serving " + version + " (only the announcement can tell it)",
                Duration.ofSeconds(30), () -> servedVersion(second, user, hour) == version);
        double expected;
        try (RetrainFixtures.Instance check = new RetrainFixtures.Instance(db, "check")) {
            ModelRecord base = check.registry.current(ModelRegistry.BASE_USER).block();
            expected = TestModels.predict(base, copied, hour.features());
        }
        assertThat(predict(first, user, hour).get("prediction").doubleValue()).isEqualTo(expected);
        assertThat(predict(second, user, hour).get("prediction").doubleValue()).isEqualTo(expected);
        assertThat(second.log().lines().filter(line -> line.contains("model swap announced")
                && line.contains("\"user_id\":\"" + user + "\"")))
                .anySatisfy(line -> assertThat(line)
                        .contains("\"version\":" + version, "\"status\":\"" + status + "\""));
    }
}

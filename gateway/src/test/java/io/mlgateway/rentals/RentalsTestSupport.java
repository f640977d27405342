package io.mlgateway.rentals;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.testing.KeyHashes;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.training.BikeSharingData;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Shared by the rentals integration tests: request bodies from hour.csv and waiting on conditions. */
public final class RentalsTestSupport {

    static final JsonMapper JSON = JsonMapper.builder().build();

    private RentalsTestSupport() {
    }

    /** Spring properties pointing a gateway at the local services and at {@code db}'s schema. */
    static Map<String, Object> properties(LocalServices.TestDatabase db) {
        Map<String, Object> properties = new java.util.HashMap<>(db.springProperties());
        properties.put("gateway.api.api-keys", KeyHashes.sha256("rentals-test-key"));
        properties.put("gateway.rentals.startup-retry", "500ms");
        return properties;
    }

    /** An hour as a v1 {@code /v1/rentals/{user}/predict} body. */
    public static ObjectNode body(BikeSharingData.Hour hour) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode features = body.putObject("features");
        for (int i = 0; i < RentalFeatures.COUNT; i++) {
            features.put(RentalFeatures.NAMES.get(i), hour.features()[i]);
        }
        return body;
    }

    /** POSTs one prediction for {@code user} to the gateway on {@code port} and returns the model version served. */
    static long servedVersion(int port, String user, BikeSharingData.Hour hour) {
        byte[] body = org.springframework.test.web.reactive.server.WebTestClient.bindToServer()
                .baseUrl("http://127.0.0.1:" + port).responseTimeout(Duration.ofSeconds(30)).build()
                .post().uri("/v1/rentals/" + user + "/predict").header("x-api-key", "rentals-test-key")
                .contentType(org.springframework.http.MediaType.APPLICATION_JSON)
                .bodyValue(JSON.writeValueAsString(body(hour)))
                .exchange().expectStatus().isOk().expectBody().returnResult().getResponseBody();
        return JSON.readTree(body).get("model_version").longValue();
    }

    public static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
    }
}

package io.mlgateway.loadtests.gatling;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.json.JsonMapper;

/**
 * Two gateways and two retrainers behind HAProxy, driven by the Gatling feedback simulation (forecasts, then their
 * actuals, retrains every 50): a retrain announced once on Kafka switches the user's model in both gateways; no
 * user is retrained twice for the same actuals; stopping one gateway and one retrainer in the middle of a run fails
 * no request and loses no actual, and the other retrainer takes the users over. Shortened here;
 * load-tests/bench/scale-out.sh runs it longer (SCALE_OUT_SECONDS) and docs/SCALING.md holds its figures.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScaleOutTest {

    /** Seconds of load of the run that loses an instance (system property scaleOut.seconds). */
    private static final int SECONDS = Integer.getInteger("scaleOut.seconds", 24);
    private static final int THRESHOLD = 50;
    private static ScaledOutProduct product;
    private final HttpClient http = HttpClient.newHttpClient();
    private final JsonMapper json = JsonMapper.builder().build();

    @BeforeAll
    static void scaleOut() throws Exception {
        product = new ScaledOutProduct();
    }

    @AfterAll
    static void stop() throws Exception {
        if (product != null) {
            product.close();
        }
    }

    @Test
    @Order(1)
    void oneAnnouncementSwitchesTheModelInBothGateways() throws Exception {
        String users = "scale-a-" + System.nanoTime();
        GatlingRun run = GatlingRun.of(FeedbackLoopSimulation.class, product.baseUrl(), ScaledOutProduct.API_KEY,
                Map.of("rate", "40", "duration", "12", "warmupSeconds", "2", "users", "2", "actualDelayMs", "200",
                        "userPrefix", users));
        run.assertPassed();

        Map<String, Long> heads = heads(users);
        assertThat(heads).as("users with a retrained model").isNotEmpty();
        for (ScaledOutProduct.Instance gateway : product.gateways) {
            // Both gateways served these users before their retrains (round robin), so each holds a model to swap.
            assertThat(ScaledOutProduct.counter(gateway.metrics(), "gateway_modelstore_swaps_total",
                    "trigger=\"kafka\"")).as("%s swapped on a model-retrained message", gateway.name()).isPositive();
            for (Map.Entry<String, Long> head : heads.entrySet()) {
                assertThat(servedVersion(gateway, head.getKey(), head.getValue()))
                        .as("%s serves %s its newest version", gateway.name(), head.getKey()).isEqualTo(head.getValue());
            }
        }
        assertNoActualsUsedTwice();
    }

    @Test
    @Order(2)
    void losingAGatewayAndARetrainerMidRunFailsNoRequestAndLosesNoActual() throws Exception {
        String users = "scale-b-" + System.nanoTime();
        CompletableFuture<GatlingRun> load = CompletableFuture.supplyAsync(() -> {
            try {
                return GatlingRun.of(FeedbackLoopSimulation.class, product.baseUrl(), ScaledOutProduct.API_KEY,
                        Map.of("rate", "60", "duration", Integer.toString(SECONDS), "warmupSeconds", "2",
                                "users", "4", "actualDelayMs", "200", "userPrefix", users));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        // Half-way through the load by its own progress (30 arrivals/s, each posting one actual), not by the clock:
        // how long Gatling's JVM takes to start does not move the moment.
        long halfWay = 30L * SECONDS / 2;
        long loadDeadline = System.nanoTime() + Duration.ofSeconds(60 + SECONDS).toNanos();
        while (storedActuals(users) < halfWay && !load.isDone() && System.nanoTime() < loadDeadline) {
            Thread.sleep(200);
        }
        assertThat(load.isDone()).as("the load ended before half-way: %s", load.isDone() ? load.join().tail() : "")
                .isFalse();
        ScaledOutProduct.Instance gateway = product.gateways.get(1);
        ScaledOutProduct.Instance retrainer = product.retrainers.get(1);
        String retrainerMetrics = retrainer.metrics();
        assertThat(gateway.process().stop()).as("gateway-2 drained and exited on SIGTERM").isEqualTo(143);
        assertThat(retrainer.process().stop()).as("retrainer-2 exited on SIGTERM").isEqualTo(143);
        GatlingRun run = load.join();
        run.assertPassed();

        long posted = run.okCount(FeedbackLoopSimulation.ACTUAL);
        assertThat(posted).as("actuals answered, from the summary of:%n%s", run.tail()).isPositive();
        assertThat(storedActuals(users)).as("every actual the balancer answered 200 is stored").isEqualTo(posted);

        // The surviving retrainer takes over: no user is left with a retrain due.
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (due(users) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(500);
        }
        assertThat(due(users)).as("users with " + THRESHOLD + " or more unused actuals").isZero();
        assertNoActualsUsedTwice();
        System.out.printf("scale-out: %d actuals stored; retrains by retrainer-2 before it stopped %s, by retrainer-1"
                + " %s (busy: left to the instance holding the user; conflict: a fit that lost the race)%n", posted,
                retrains(retrainerMetrics), retrains(product.retrainers.get(0).metrics()));
    }

    /** Models are stored by compare-and-set on the user's head: never two from the same head, never overlapping. */
    private void assertNoActualsUsedTwice() {
        assertThat(product.db.count("SELECT count(*) FROM (SELECT user_id, parent_version FROM rental_models"
                + " WHERE status = 'active' AND user_id LIKE 'scale-%' GROUP BY 1, 2 HAVING count(*) > 1) twice"))
                .as("two models fitted from the same head").isZero();
        assertThat(product.db.count("SELECT count(*) FROM actual_rentals a JOIN rental_models m"
                + " ON m.version = a.used_in_version WHERE a.user_id <> m.user_id")).isZero();
    }

    private long storedActuals(String users) {
        return product.db.count("SELECT count(*) FROM actual_rentals WHERE user_id LIKE '" + users + "-%'");
    }

    private long due(String users) {
        return product.db.count("SELECT count(*) FROM (SELECT user_id FROM actual_rentals WHERE used_in_version IS NULL"
                + " AND user_id LIKE '" + users + "-%' GROUP BY user_id HAVING count(*) >= " + THRESHOLD + ") due");
    }

    private Map<String, Long> heads(String users) throws Exception {
        Map<String, Long> heads = new LinkedHashMap<>();
        try (var c = product.db.jdbc(); var rs = c.createStatement().executeQuery(
                "SELECT user_id, version FROM rental_model_heads WHERE user_id LIKE '" + users + "-%'")) {
            while (rs.next()) {
                heads.put(rs.getString(1), rs.getLong(2));
            }
        }
        return heads;
    }

    /** The version {@code gateway} answers the user with, asked directly until it is {@code expected} (10 s). */
    private long servedVersion(ScaledOutProduct.Instance gateway, String user, long expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        long version;
        do {
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(gateway.url() + "/v1/rentals/"
                    + user + "/predict")).header("x-api-key", ScaledOutProduct.API_KEY)
                    .header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(Feeds.hours().get(0).body())).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            version = json.readTree(answer.body()).get("model_version").asLong();
        } while (version != expected && System.nanoTime() < deadline && sleep());
        return version;
    }

    private static boolean sleep() throws InterruptedException {
        Thread.sleep(250);
        return true;
    }

    private static String retrains(String metrics) {
        StringBuilder counts = new StringBuilder();
        for (String status : new String[] {"success", "rejected", "busy", "conflict", "failed"}) {
            counts.append(counts.isEmpty() ? "" : ", ").append(status).append(' ').append((long) ScaledOutProduct
                    .counter(metrics, "retrainer_retrains_total", "status=\"" + status + "\""));
        }
        return counts.toString();
    }
}

package io.mlgateway.loadtests.gatling;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Three gateways and two retrainers behind HAProxy routing by user (deploy/compose/haproxy.cfg):
 * <ul>
 *   <li>each user's requests, by path or by the x-user-id header, reach one gateway, which is the only one to load
 *       it; a gateway stopped moves only its own users (the others load just those), and restarted it warms its
 *       users before it is ready and gets them back;</li>
 *   <li>driven by the Gatling feedback simulation (forecasts, then their actuals, retrains every 50): a retrain
 *       announced once on Kafka reaches every gateway and switches the model where the user is held; no user is
 *       retrained twice for the same actuals; stopping one gateway and one retrainer in the middle of a run fails no
 *       request and loses no actual, and the other retrainer takes the users over.</li>
 * </ul>
 * Shortened here; load-tests/bench/scale-out.sh runs it longer (SCALE_OUT_SECONDS), load-tests/bench/affinity.sh
 * runs 100,000 users over 4 gateways, and docs/SCALING.md holds their figures.
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
    void eachUsersRequestsReachOneGatewayAndAStopMovesOnlyItsUsers() throws Exception {
        String prefix = "aff-" + System.nanoTime() + "-";
        List<String> users = IntStream.range(0, 60).mapToObj(i -> prefix + i).toList();
        Map<String, Double> before = memoryMisses();
        for (String user : users) {
            predict(user);
            predict(user);
            infer(user);
        }
        Map<String, List<String>> routes = product.routes(prefix);
        Map<String, String> home = new LinkedHashMap<>();
        for (String user : users) {
            assertThat(routes.get(user)).as("%s's requests in the balancer's log", user).hasSize(3);
            assertThat(Set.copyOf(routes.get(user))).as("%s's requests (v1 by path, OIP by x-user-id)", user)
                    .hasSize(1);
            home.put(user, routes.get(user).get(0));
        }
        Map<String, Long> share = home.values().stream().collect(Collectors.groupingBy(g -> g, Collectors.counting()));
        assertThat(share).as("users per gateway").hasSize(ScaledOutProduct.GATEWAYS);
        assertThat(share.values()).allMatch(n -> n >= 6);
        Map<String, Double> after = memoryMisses();
        for (String gateway : share.keySet()) {
            // Its own users, each loaded once (the first request), and no one else's.
            assertThat(after.get(gateway) - before.get(gateway)).as("users %s loaded", gateway)
                    .isEqualTo(share.get(gateway).doubleValue());
        }

        // gateway-3 stops: its users move to the others, everyone else stays where they were.
        ScaledOutProduct.Instance third = product.gateways.get(2);
        assertThat(third.process().stop()).as("gateway-3 drained and exited on SIGTERM").isEqualTo(143);
        product.awaitUpServers(ScaledOutProduct.GATEWAYS - 1);
        before = memoryMisses();
        for (String user : users) {
            predict(user);
        }
        routes = product.routes(prefix);
        Map<String, Long> moved = new LinkedHashMap<>();
        for (String user : users) {
            String now = last(routes.get(user));
            if (home.get(user).equals(third.name())) {
                assertThat(now).as("%s, a user of the stopped gateway", user).isNotEqualTo(third.name());
                moved.merge(now, 1L, Long::sum);
            } else {
                assertThat(now).as("%s stays on its gateway", user).isEqualTo(home.get(user));
            }
        }
        after = memoryMisses();
        for (ScaledOutProduct.Instance gateway : product.gateways.subList(0, 2)) {
            assertThat(after.get(gateway.name()) - before.get(gateway.name()))
                    .as("%s loaded only the users it took over from gateway-3", gateway.name())
                    .isEqualTo(moved.getOrDefault(gateway.name(), 0L).doubleValue());
        }

        // Restarted, it warms the users it had before it is ready, and gets them back: no load on their return.
        ScaledOutProduct.Instance restarted = product.restart(third);
        JsonNode warmUp = json.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + restarted.management() + "/actuator/health/readiness")).build(), HttpResponse.BodyHandlers.ofString())
                .body()).path("components").path("rentals").path("details").path("warmUp");
        assertThat(warmUp.path("loaded").asLong()).as("users gateway-3 warmed: %s", warmUp)
                .isEqualTo(share.get(third.name()));
        before = memoryMisses();
        for (String user : users) {
            predict(user);
        }
        routes = product.routes(prefix);
        for (String user : users) {
            assertThat(last(routes.get(user))).as("%s back on its gateway", user).isEqualTo(home.get(user));
        }
        assertThat(memoryMisses().get(third.name()) - before.get(third.name())).as("loads on gateway-3").isZero();
        System.out.printf("affinity: %d users, per gateway %s; gateway-3 stopped, its users moved to %s; restarted, it"
                + " warmed %d and got them back%n", users.size(), share, moved, warmUp.path("loaded").asLong());
    }

    @Test
    @Order(2)
    void oneAnnouncementReachesEveryGatewayAndSwitchesTheModelWhereTheUserIsHeld() throws Exception {
        String users = "scale-a-" + System.nanoTime();
        GatlingRun run = GatlingRun.of(FeedbackLoopSimulation.class, product.baseUrl(), ScaledOutProduct.API_KEY,
                Map.of("rate", "40", "duration", "12", "warmupSeconds", "2", "users", "2", "actualDelayMs", "200",
                        "userPrefix", users));
        run.assertPassed();

        Map<String, Long> heads = heads(users);
        assertThat(heads).as("users with a retrained model").isNotEmpty();
        Map<String, List<String>> routes = product.routes(users);
        for (Map.Entry<String, Long> head : heads.entrySet()) {
            String holder = last(routes.get(head.getKey()));
            for (ScaledOutProduct.Instance gateway : product.gateways) {
                // Every gateway hears every announcement (a broadcast); only the holder has a model to swap.
                assertThat(gateway.process().log()).as("%s heard the announcement for %s", gateway.name(),
                        head.getKey()).containsPattern("(?m)^.*\"event\":\"model\\.swap\".*\"user_id\":\"" + head.getKey()
                        + "\".*$");
            }
            ScaledOutProduct.Instance held = product.gateways.stream().filter(g -> g.name().equals(holder)).findFirst()
                    .orElseThrow();
            assertThat(ScaledOutProduct.counter(held.metrics(), "gateway_modelstore_swaps_total",
                    "trigger=\"kafka\"")).as("%s swapped on a model-retrained message", holder).isPositive();
            for (ScaledOutProduct.Instance gateway : product.gateways) {
                assertThat(servedVersion(gateway, head.getKey(), head.getValue()))
                        .as("%s serves %s its newest version", gateway.name(), head.getKey()).isEqualTo(head.getValue());
            }
        }
        assertNoActualsUsedTwice();
    }

    @Test
    @Order(3)
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

    private void predict(String user) throws Exception {
        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(product.baseUrl() + "/v1/rentals/"
                + user + "/predict")).header("x-api-key", ScaledOutProduct.API_KEY)
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Feeds.hours().get(0).body())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    }

    /** The same forecast on the Open Inference Protocol, routed by the x-user-id header. */
    private void infer(String user) throws Exception {
        String body = "{\"parameters\":{\"user_id\":\"" + user + "\"},\"inputs\":[{\"name\":\"features\","
                + "\"shape\":[1,12],\"datatype\":\"FP32\",\"data\":[3,1,7,17,0,3,1,1,0.72,0.66,0.5,0.2]}]}";
        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(product.baseUrl()
                + "/v2/models/rentals/infer")).header("x-api-key", ScaledOutProduct.API_KEY)
                .header("content-type", "application/json").header("x-user-id", user)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    }

    /** Each running gateway's count of requests that found their user's model not in memory (each one a load). */
    private Map<String, Double> memoryMisses() throws Exception {
        Map<String, Double> misses = new LinkedHashMap<>();
        for (ScaledOutProduct.Instance gateway : product.gateways) {
            if (gateway.process().isAlive()) {
                misses.put(gateway.name(), ScaledOutProduct.counter(gateway.metrics(), "gateway_modelstore_lookups_total",
                        "tier=\"memory\"", "result=\"miss\""));
            }
        }
        return misses;
    }

    private static String last(List<String> routes) {
        return routes.get(routes.size() - 1);
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

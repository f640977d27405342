package io.mlgateway.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import io.mlgateway.shared.testing.KeyHashes;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.testing.AppProcess;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.Registries;
import io.mlgateway.shared.testing.TestModels;
import io.mlgateway.shared.training.BikeSharingData;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * The gateway jar restarted (SIGTERM, then a new process on the same port) while users with models of their own
 * keep sending predictions at a fixed rate. The load is sent the way a load balancer sends it: not while the
 * instance is going away or not ready. Once the new instance reports ready every request is answered 200 and
 * every one of those users is already in memory (no lookup misses): the warm-up loaded them from the users the
 * first instance published as recently active. A shortened form of the benchmark in docs/BENCHMARKS.md ("Restart
 * under load": 1,000 users at 500 requests/s, with the load sent throughout).
 */
class RestartUnderLoadIT {

    private static final int USERS = 200;
    private static final int RATE = 200;
    private static final String KEY = "restart-test-key";

    private record Answer(long dueMillis, int status) {
    }

    @Test
    void aRestartedGatewayAnswersEveryRequestOnceItReportsReady() throws Exception {
        LocalServices.TestDatabase db = LocalServices.freshDatabase();
        int port = AppProcess.freePort();
        int management = AppProcess.freePort();
        Map<String, String> environment = new HashMap<>(AppProcess.services(db));
        environment.putAll(Map.of("GATEWAY_API_KEYS", KeyHashes.sha256(KEY), "SERVER_PORT", Integer.toString(port),
                "MANAGEMENT_SERVER_PORT", Integer.toString(management), "GATEWAY_GRPC_PORT", "0",
                "GATEWAY_MODEL_CACHE_WARM_UP_PUBLISH_INTERVAL", "1s", "GATEWAY_RENTALS_STARTUP_RETRY", "500ms"));
        String readiness = "http://127.0.0.1:" + management + "/actuator/health/readiness";

        AppProcess first = AppProcess.start(Path.of("target", "gateway.jar"), environment,
                AppProcess.Environment.INHERIT_OTHERS, Files.createTempFile("restart-1", ".log"), "-Xmx384m");
        first.await("first instance ready", Duration.ofSeconds(90), () -> AppProcess.get(readiness) == 200);

        ModelRegistry registry = Registries.over(db.connectionFactory());
        ModelRecord base = registry.current(ModelRegistry.BASE_USER).block();
        List<BikeSharingData.Hour> hours = BikeSharingData.where(h -> !h.isYear2011());
        String run = UUID.randomUUID().toString().substring(0, 6);
        List<String> users = new ArrayList<>();
        for (int i = 0; i < USERS; i++) {
            String user = "restart-" + run + "-" + i;
            registry.store(TestModels.continued(user, base, null, hours.subList(20 * i, 20 * i + 40), 2), null).block();
            users.add(user);
        }
        List<byte[]> bodies = hours.subList(0, 100).stream().map(RestartUnderLoadIT::body).toList();

        Queue<Answer> answers = new ConcurrentLinkedQueue<>();
        AtomicBoolean inService = new AtomicBoolean(true);
        ConnectionProvider pool = ConnectionProvider.builder("restart-load").maxConnections(64).build();
        HttpClient client = HttpClient.create(pool).responseTimeout(Duration.ofSeconds(10))
                .headers(h -> h.set("content-type", "application/json").set("x-api-key", KEY));
        // Every user once, then a fixed rate of requests over random users for the rest of the test.
        Flux.fromIterable(users).concatMap(user -> send(client, port, user, bodies.get(0))).blockLast();
        Disposable load = Flux.interval(Duration.ofMillis(1000 / RATE)).filter(tick -> inService.get()).flatMap(tick -> {
            long due = System.currentTimeMillis();
            String user = users.get(ThreadLocalRandom.current().nextInt(USERS));
            return send(client, port, user, bodies.get((int) (tick % bodies.size())))
                    .doOnNext(status -> answers.add(new Answer(due, status)));
        }, 1024).subscribe();
        try {
            Thread.sleep(3000); // under load, and the users published as recently active (every second)
            inService.set(false);
            assertThat(first.stop()).as("graceful exit").isIn(0, 143);

            AppProcess second = AppProcess.start(Path.of("target", "gateway.jar"), environment,
                    AppProcess.Environment.INHERIT_OTHERS, Files.createTempFile("restart-2", ".log"), "-Xmx384m");
            try {
                second.await("second instance ready", Duration.ofSeconds(90), () -> AppProcess.get(readiness) == 200);
                long ready = System.currentTimeMillis();
                double missesAtReady = memoryMisses(management);
                inService.set(true);
                Thread.sleep(5000);
                load.dispose();

                List<Answer> afterReady = answers.stream().filter(a -> a.dueMillis() >= ready).toList();
                assertThat(afterReady).hasSizeGreaterThan(RATE * 3);
                Map<Integer, Long> statuses = afterReady.stream()
                        .collect(Collectors.groupingBy(Answer::status, Collectors.counting()));
                assertThat(statuses).as("statuses of requests due after the new instance was ready").containsOnlyKeys(200);
                // The warm-up had loaded them all: not one request missed the memory tier once ready.
                assertThat(memoryMisses(management)).isEqualTo(missesAtReady);
                assertThat(second.log()).contains("\"event\":\"rentals.ready\"");
            } finally {
                second.stop();
            }
        } finally {
            load.dispose();
            pool.dispose();
        }
    }

    private static Mono<Integer> send(HttpClient client, int port, String user, byte[] body) {
        return client.post().uri("http://127.0.0.1:" + port + "/v1/rentals/" + user + "/predict")
                .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(body)))
                .responseSingle((response, content) -> content.then(Mono.just(response.status().code())))
                .onErrorReturn(-1);
    }

    /** Requests that did not find their user's model in memory so far. */
    private static double memoryMisses(int management) throws Exception {
        java.net.http.HttpResponse<String> metrics = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + management
                        + "/actuator/prometheus")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("(?m)^gateway_modelstore_lookups_total\\{[^}]*result=\"miss\"[^}]*tier=\"memory\"[^}]*\\}"
                + " ([0-9.eE+]+)$").matcher(metrics.body());
        assertThat(m.find()).as("memory misses exposed").isTrue();
        return Double.parseDouble(m.group(1));
    }

    private static byte[] body(BikeSharingData.Hour hour) {
        StringBuilder json = new StringBuilder("{\"features\":{");
        for (int i = 0; i < RentalFeatures.COUNT; i++) {
            json.append(i == 0 ? "" : ",").append('"').append(RentalFeatures.NAMES.get(i)).append("\":")
                    .append(hour.features()[i]);
        }
        return json.append("}}").toString().getBytes(StandardCharsets.UTF_8);
    }
}

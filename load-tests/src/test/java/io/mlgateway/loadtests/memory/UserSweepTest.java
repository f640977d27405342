package io.mlgateway.loadtests.memory;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.loadtests.seed.SeedUserModels;
import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.testing.AppProcess;
import io.mlgateway.shared.testing.KeyHashes;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.training.BikeSharingData;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * Many more users than the tier holds, swept through a packaged gateway with a small heap: the sweep that killed a
 * gateway with {@code OutOfMemoryError} before the tier's count was the memory it guards. 2,500 users with
 * policy-sized models (50 own trees of depth 6 fitted on 4,000 hours: ~29 KB each in memory) against a 128 MB heap
 * whose tier (32 MB) holds ~1,100 of them, swept twice at 16 requests in flight while the version check runs every
 * second (the periodic work that used to keep a churning tier's models alive). Before that, the users are all held on
 * the base model when their own models appear: the version check finds 2,500 held users stale at once, and their
 * background loads must not hold a second tier either.
 *
 * <p>Asserted: every request answered 200, the gateway alive and without an {@code OutOfMemoryError}, evictions (the
 * sweep did overflow the tier), and the live heap, measured by heap histograms (each a full GC) during and after the
 * sweep, within the heap the gateway held with no user in memory, plus the tier's bound and 10%, plus what the
 * requests in flight may hold beyond it (each at most a model being loaded: its stored bytes and decoded forms,
 * under 256 KB).
 */
class UserSweepTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final String KEY = "sweep-test-key";
    private static final int USERS = 2_500;
    private static final int IN_FLIGHT = 16;
    private static final String HEAP = "-Xmx128m";

    /** Users of this run only: model:{user} and the recent users in the shared Redis outlive a run. */
    private static final String PREFIX = "sweep-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36) + "-";

    private static LocalServices.TestDatabase db;
    private static AppProcess gateway;
    private static int port;
    private static int management;

    @BeforeAll
    static void seedAndStart() throws Exception {
        db = LocalServices.freshDatabase();
        port = AppProcess.freePort();
        management = AppProcess.freePort();
        Map<String, String> env = new HashMap<>(AppProcess.services(db));
        env.putAll(Map.of("SERVER_PORT", Integer.toString(port), "MANAGEMENT_SERVER_PORT", Integer.toString(management), "GATEWAY_GRPC_PORT", "0",
                "GATEWAY_API_KEYS", KeyHashes.sha256(KEY), "GATEWAY_MODEL_CACHE_MAX_BYTES", "32MB",
                // The periodic comparison with the registry, as often as it may run: it must not hold models.
                "GATEWAY_MODEL_CACHE_VERSION_CHECK_INTERVAL", "1s"));
        gateway = AppProcess.start(ROOT.resolve("gateway/target/gateway.jar"), env,
                AppProcess.Environment.INHERIT_OTHERS, Path.of("target/user-sweep/gateway.log"), HEAP,
                "-XX:+HeapDumpOnOutOfMemoryError", "-XX:HeapDumpPath=target/user-sweep");
        gateway.await("gateway ready", Duration.ofMinutes(2),
                () -> AppProcess.get("http://127.0.0.1:" + management + "/actuator/health/readiness") == 200);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.stop();
        }
    }

    @Test
    void aSweepOverManyMoreUsersThanTheTierHoldsStaysWithinTheBound() throws Exception {
        HttpClient client = HttpClient.create(ConnectionProvider.create("sweep", IN_FLIGHT))
                .baseUrl("http://127.0.0.1:" + port)
                // A gateway that died (OutOfMemoryError) answers nothing: fail, do not hang.
                .responseTimeout(Duration.ofSeconds(10))
                .headers(h -> h.add("x-api-key", KEY).add("content-type", "application/json"));
        String body = body(BikeSharingData.load().get(5000));
        // What the gateway holds with no user's own model in memory (the base model, pools, buffers): the floor.
        long floor = liveHeap();
        long maxBytes = gauge("gateway_modelstore_memory_limit_bytes");

        // Every user served once while it has no model of its own: all of them held, on the base (an entry each).
        Map<Integer, Long> statuses = new ConcurrentHashMap<>();
        sweep(client, body, USERS, statuses);
        assertThat(statuses).containsExactly(Map.entry(200, (long) USERS));
        statuses.clear();
        AtomicBoolean sweeping = new AtomicBoolean(true);
        List<Long> during = new java.util.concurrent.CopyOnWriteArrayList<>();
        // Heap histograms while the tier churns: that is when a second copy would be alive.
        Thread sampler = new Thread(() -> {
            while (sweeping.get()) {
                try {
                    Thread.sleep(1500);
                    if (sweeping.get()) {
                        during.add(liveHeap());
                    }
                } catch (Exception e) {
                    return;
                }
            }
        });
        sampler.start();
        try {
            // Then each gets a policy-sized model (4 distinct ones, a copy stored per user): the version check finds
            // every held user stale at once, a storm of background loads, while the tier overflows.
            SeedUserModels.main(new String[] {db.r2dbcUrl(), db.user(), db.password(), Integer.toString(USERS),
                    PREFIX, "50", "2", "4000", "4"});
            sweep(client, body, 2 * USERS, statuses);
        } finally {
            sweeping.set(false);
            sampler.join();
        }
        long after = liveHeap();
        double evictions = gauge("gateway_modelstore_evictions_total{cause=\"size\"}");
        double users = gauge("gateway_modelstore_memory_bytes{part=\"users\"}");
        System.out.printf("stale storm and sweep of %d users twice: %s; floor %,d bytes, tier limit %,d, heap during %s, after %,d;"
                + " %,.0f size evictions, tier holds %,.0f bytes%n", USERS, statuses, floor, maxBytes, during, after,
                evictions, users);

        assertThat(statuses).as("every request answered 200").containsOnlyKeys(200);
        assertThat(statuses.get(200)).isEqualTo(2L * USERS);
        assertThat(gateway.isAlive()).isTrue();
        assertThat(gateway.log()).doesNotContain("OutOfMemoryError");
        assertThat(evictions).as("the sweep overflowed the tier").isGreaterThan(USERS);
        long bound = floor + (long) (1.1 * maxBytes) + IN_FLIGHT * 256L * 1024;
        assertThat(during).as("heap histograms taken during the sweep").isNotEmpty();
        for (long live : during) {
            assertThat(live).as("live heap during the sweep, bound %,d", bound).isLessThanOrEqualTo(bound);
        }
        assertThat(after).as("live heap after the sweep").isLessThanOrEqualTo(bound);
    }

    /** {@code requests} predictions over the users in turn, {@value #IN_FLIGHT} at a time, counted by status. */
    private static void sweep(HttpClient client, String body, int requests, Map<Integer, Long> statuses) {
        Flux.range(0, requests)
                .flatMap(i -> client.post().uri("/v1/rentals/" + PREFIX + (1 + i % USERS) + "/predict")
                        .send(ByteBufFlux.fromString(Mono.just(body)))
                        .responseSingle((response, content) -> content.then(Mono.just(response.status().code())))
                        .onErrorReturn(-1), IN_FLIGHT)
                .doOnNext(status -> statuses.merge(status, 1L, Long::sum))
                // No answer in 10 s: the gateway is gone (or hung); the sweep stops and the test fails.
                .takeUntil(status -> status == -1)
                .subscribeOn(Schedulers.single())
                .blockLast(Duration.ofMinutes(10));
    }

    private static String body(BikeSharingData.Hour hour) {
        StringBuilder json = new StringBuilder("{\"features\":{");
        for (int i = 0; i < RentalFeatures.COUNT; i++) {
            json.append(i == 0 ? "" : ",").append('"').append(RentalFeatures.NAMES.get(i)).append("\":")
                    .append(hour.features()[i]);
        }
        return json.append("}}").toString();
    }

    /** The gateway's live heap, after the full GC a class histogram runs. */
    private static long liveHeap() throws Exception {
        String[] lines = AppProcess.jcmd(gateway.pid(), "GC.class_histogram").strip().split("\n");
        String[] total = lines[lines.length - 1].trim().split("\\s+");
        assertThat(total[0]).isEqualTo("Total");
        return Long.parseLong(total[2]);
    }

    private static long gauge(String series) throws Exception {
        String metrics = new String(java.net.URI.create("http://127.0.0.1:" + management + "/actuator/prometheus")
                .toURL().openStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series.contains("{") ? series.substring(0, series.indexOf('{'))
                : series) + "(\\{[^}]*\\})? ([0-9.eE+-]+)$").matcher(metrics);
        String labels = series.contains("{") ? series.substring(series.indexOf('{') + 1, series.length() - 1) : null;
        while (m.find()) {
            if (labels == null || (m.group(1) != null && m.group(1).contains(labels))) {
                return (long) Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError("no " + series + " in the gateway's metrics");
    }
}

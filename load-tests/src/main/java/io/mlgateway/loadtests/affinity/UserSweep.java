package io.mlgateway.loadtests.affinity;

import io.netty.buffer.Unpooled;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * A uniform sweep over users: one prediction for each of {@code PREFIX1 … PREFIXusers}, in a random order (seed 1),
 * {@code inFlight} at a time (closed loop). Prints the answers by status, the rate and the latency percentiles.
 * Every user is asked for exactly once: each of them a load where its model is not yet in memory.
 *
 * <p>{@code java -cp … io.mlgateway.loadtests.affinity.UserSweep BASE_URL PREFIX USERS BODY_FILE [inFlight=64]
 * [apiKey=local-dev-key]}; the user goes in the path {@code /v1/rentals/{user}/predict}.
 */
public final class UserSweep {

    private UserSweep() {
    }

    public static void main(String[] args) throws Exception {
        String base = args[0];
        String prefix = args[1];
        int users = Integer.parseInt(args[2]);
        byte[] body = Files.readAllBytes(Path.of(args[3]));
        int inFlight = args.length > 4 ? Integer.parseInt(args[4]) : 64;
        String key = args.length > 5 ? args[5] : "local-dev-key";

        List<Integer> order = new ArrayList<>(users);
        for (int i = 1; i <= users; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(1));
        ConnectionProvider pool = ConnectionProvider.builder("sweep").maxConnections(inFlight).build();
        HttpClient client = HttpClient.create(pool).baseUrl(base).responseTimeout(Duration.ofSeconds(30))
                .headers(h -> h.set("content-type", "application/json").set("x-api-key", key));
        Histogram latency = new ConcurrentHistogram(TimeUnit.SECONDS.toNanos(60), 3);
        Map<Integer, Long> statuses = new ConcurrentHashMap<>();
        long started = System.nanoTime();
        Flux.fromIterable(order)
                .flatMap(user -> {
                    long sent = System.nanoTime();
                    return client.post().uri("/v1/rentals/" + prefix + user + "/predict")
                            .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(body)))
                            .responseSingle((response, content) -> content.then(Mono.just(response.status().code())))
                            .onErrorReturn(-1)
                            .doOnNext(status -> {
                                latency.recordValue(Math.min(System.nanoTime() - sent, latency.getHighestTrackableValue()));
                                statuses.merge(status, 1L, Long::sum);
                            });
                }, inFlight)
                .blockLast();
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("sweep of %d users (%d in flight): %.1f s, %.0f req/s, statuses %s, p50 %.2f p99 %.2f"
                + " p99.9 %.2f max %.2f ms%n", users, inFlight, seconds, users / seconds, new TreeMap<>(statuses),
                latency.getValueAtPercentile(50) / 1e6, latency.getValueAtPercentile(99) / 1e6,
                latency.getValueAtPercentile(99.9) / 1e6, latency.getMaxValue() / 1e6);
        pool.disposeLater().block();
    }
}

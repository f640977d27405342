package io.mlgateway.loadtests.probe;

import io.netty.buffer.Unpooled;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * Latency at a fixed arrival rate, open loop: request i is due at start + i/rate whatever happened to earlier ones,
 * and its latency is counted from when it was due, not from when it was sent. A closed-loop tool (wrk) or one that
 * measures from the send (coordinated omission) under-reports the tail when the server stalls.
 *
 * <p>{@code java -cp … io.mlgateway.loadtests.probe.FixedRateProbe URL BODY_FILE [rate=500] [seconds=20]
 * [warmupSeconds=5] [apiKey=local-dev-key] [users=1] [logFile]}; prints one line: rate, count, p50/p90/p99/p99.9/max
 * ms, non-2xx. With {@code users > 1}, {@code {user}} in the URL is replaced by a number drawn uniformly from
 * 1..users for each request. With a log file, every measured request is written to it as a line
 * {@code dueEpochMillis status latencyMicros [user]} (status -1: no answer, e.g. connection refused; the user's number
 * when {@code users > 1}).
 */
public final class FixedRateProbe {

    private FixedRateProbe() {
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        byte[] body = Files.readAllBytes(Path.of(args[1]));
        int rate = args.length > 2 ? Integer.parseInt(args[2]) : 500;
        int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 20;
        int warmup = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        String key = args.length > 5 ? args[5] : "local-dev-key";
        int users = args.length > 6 ? Integer.parseInt(args[6]) : 1;
        Path logFile = args.length > 7 ? Path.of(args[7]) : null;

        ConnectionProvider pool = ConnectionProvider.builder("probe").maxConnections(64)
                .pendingAcquireMaxCount(100_000).build();
        HttpClient client = HttpClient.create(pool)
                .headers(h -> h.set("content-type", "application/json").set("x-api-key", key));
        Recorder recorder = new Recorder(TimeUnit.SECONDS.toNanos(10), 3);
        AtomicLong bad = new AtomicLong();

        run(client, url, users, body, rate, warmup, null, bad, null);   // JIT and connections, not recorded
        bad.set(0);
        try (BufferedWriter log = logFile == null ? null : Files.newBufferedWriter(logFile)) {
            run(client, url, users, body, rate, seconds, recorder, bad, log);
        }
        Histogram h = recorder.getIntervalHistogram();
        System.out.printf("rate %d/s  requests %d  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms  non-2xx %d%n",
                rate, h.getTotalCount(), ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(90)),
                ms(h.getValueAtPercentile(99)), ms(h.getValueAtPercentile(99.9)), ms(h.getMaxValue()), bad.get());
        pool.disposeLater().block();
    }

    private static void run(HttpClient client, String url, int users, byte[] body, int rate, int seconds,
            Recorder recorder, AtomicLong bad, BufferedWriter log) {
        long periodNanos = 1_000_000_000L / rate;
        long start = System.nanoTime();
        long startMillis = System.currentTimeMillis();
        Flux.interval(Duration.ofNanos(periodNanos))
                .take((long) rate * seconds)
                // Open loop: a request due while 4,096 are in flight waits here, and its latency (from when it was
                // due) says so; it is never dropped, and the probe never stops on it.
                .onBackpressureBuffer()
                .flatMap(i -> {
                    long due = start + (i + 1) * periodNanos;
                    int user = users > 1 ? ThreadLocalRandom.current().nextInt(users) + 1 : 0;
                    String target = users > 1 ? url.replace("{user}", Integer.toString(user)) : url;
                    return client.post().uri(target).send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(body)))
                            .responseSingle((response, content) -> content.then(Mono.just(response.status().code())))
                            .onErrorReturn(-1)
                            .doOnNext(code -> {
                                long latency = Math.max(0, System.nanoTime() - due);
                                if (recorder != null) {
                                    recorder.recordValue(latency);
                                }
                                if (code < 200 || code >= 300) {
                                    bad.incrementAndGet();
                                }
                                if (log != null) {
                                    write(log, startMillis + (due - start) / 1_000_000 + " " + code + " "
                                            + latency / 1000 + (users > 1 ? " " + user : ""));
                                }
                            });
                }, 4096)
                .blockLast();
    }

    private static synchronized void write(BufferedWriter log, String line) {
        try {
            log.write(line);
            log.newLine();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}

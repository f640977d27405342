package io.mlgateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Slow clients are cut off by the timeouts of {@link HttpServerProperties} (and Boot's idle timeout), measured on
 * real sockets against the running gateway: how long after its first byte a slow client is answered or closed.
 * The timeouts are short here (head 2 s, body pause 1 s, whole body 3 s, idle 3 s) so the test is quick; the
 * margins allow for a loaded two-core machine. Slow clients are paced with sleeps (that is what makes them slow);
 * outcomes are awaited with socket read timeouts and deadlines, never a fixed sleep.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0", "gateway.api.api-keys=" + RawHttp.KEY_CONFIG,
        "gateway.http.request-head-timeout=2s", "gateway.http.body-read-timeout=1s", "gateway.http.body-timeout=3s",
        "server.netty.idle-timeout=3s"})
class SlowClientTest {

    static final long HEAD_TIMEOUT = 2_000;
    static final long BODY_READ_TIMEOUT = 1_000;
    static final long BODY_TIMEOUT = 3_000;
    static final long IDLE_TIMEOUT = 3_000;
    /** How late a cut may come: scheduling on a busy two-core machine. */
    static final long MARGIN = 1_500;

    @LocalServerPort
    int port;

    @Autowired
    MeterRegistry meters;

    static String sample() throws IOException {
        return Files.readString(Path.of("../load-tests/bench/regno.json"));
    }

    /** Headers a byte at a time, every 200 ms (well inside the idle timeout, which each byte restarts). */
    @ParameterizedTest
    @ValueSource(strings = {"/v1/regno/predict", "/v2/models/regno/infer"})
    void aClientSendingItsHeadersAByteAtATimeGetsA408AfterTheHeadTimeout(String path) throws Exception {
        byte[] head = RawHttp.ascii(RawHttp.postHead(path, "Content-Length: 2"));
        try (Socket socket = RawHttp.connect(port, Duration.ofMillis(HEAD_TIMEOUT + IDLE_TIMEOUT + MARGIN))) {
            AtomicBoolean stop = new AtomicBoolean();
            long started = System.nanoTime();
            CompletableFuture<Void> trickle = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = socket.getOutputStream();
                    for (int i = 0; i < head.length && !stop.get(); i++) {
                        out.write(head[i]);
                        out.flush();
                        Thread.sleep(200); // pacing the slow client, not waiting for an outcome
                    }
                } catch (IOException | InterruptedException e) {
                    // cut off: what this test expects
                }
            });
            RawHttp.Answer answer = RawHttp.read(socket.getInputStream());
            long answeredMs = elapsedMs(started);
            boolean closed = RawHttp.closedByServer(socket);
            long closedMs = elapsedMs(started);
            stop.set(true);
            trickle.get(5, TimeUnit.SECONDS);
            System.out.printf("slow head %s: 408 after %d ms, closed after %d ms%n", path, answeredMs, closedMs);

            assertThat(answer).as("a 408 before the close").isNotNull();
            assertThat(answer.status()).isEqualTo(408);
            assertThat(answer.header("content-type")).isEqualTo("application/json");
            assertThat(answer.header("connection")).isEqualTo("close");
            if (path.startsWith("/v2")) {
                assertThat(answer.body()).isEqualTo("{\"error\":\"request head not received within 2s\"}");
            } else {
                assertThat(answer.body()).contains("\"status\":\"fail\"")
                        .contains("\"message\":\"request head not received within 2s\"");
            }
            assertThat(closed).isTrue();
            assertThat(answeredMs).as("answered after the head timeout").isBetween(HEAD_TIMEOUT, HEAD_TIMEOUT + MARGIN);
            assertThat(closedMs).as("closed right after").isLessThan(HEAD_TIMEOUT + MARGIN);
        }
    }

    /** Headers complete, 10 of 100 body bytes, then nothing: cut after the body pause timeout. */
    @ParameterizedTest
    @ValueSource(strings = {"/v1/regno/predict", "/v1/regno/predict/batch"}) // direct route, WebFlux route
    void aClientThatStallsMidBodyGetsA408AfterTheBodyReadTimeout(String path) throws Exception {
        double before = RawHttp.refused(meters, "body_paused");
        try (Socket socket = RawHttp.connect(port, Duration.ofMillis(BODY_TIMEOUT + MARGIN))) {
            OutputStream out = socket.getOutputStream();
            out.write(RawHttp.ascii(RawHttp.postHead(path, "Content-Length: 100") + "{\"instance"));
            out.flush();
            long started = System.nanoTime();
            RawHttp.Answer answer = RawHttp.read(socket.getInputStream());
            long answeredMs = elapsedMs(started);
            System.out.printf("stalled body %s: 408 after %d ms%n", path, answeredMs);
            assertThat(answer).isNotNull();
            assertThat(answer.status()).isEqualTo(408);
            assertThat(answer.body()).contains("request body paused for more than 1s");
            assertThat(RawHttp.closedByServer(socket)).isTrue();
            assertThat(answeredMs).isBetween(BODY_READ_TIMEOUT, BODY_READ_TIMEOUT + MARGIN);
        }
        assertThat(RawHttp.refused(meters, "body_paused")).isEqualTo(before + 1);
    }

    /** A body trickled a byte every 250 ms never pauses long enough, but is cut at the whole-body timeout. */
    @ParameterizedTest
    @ValueSource(strings = {"/v1/rentals/u1/predict", "/v1/rentals/u1/predict/batch"})
    void aClientTricklingItsBodyGetsA408AfterTheBodyTimeout(String path) throws Exception {
        double before = RawHttp.refused(meters, "body_timeout");
        try (Socket socket = RawHttp.connect(port, Duration.ofMillis(BODY_TIMEOUT + MARGIN))) {
            OutputStream out = socket.getOutputStream();
            out.write(RawHttp.ascii(RawHttp.postHead(path, "Content-Length: 1000")));
            out.flush();
            long started = System.nanoTime();
            AtomicBoolean stop = new AtomicBoolean();
            CompletableFuture<Void> trickle = CompletableFuture.runAsync(() -> {
                try {
                    while (!stop.get()) {
                        out.write(' ');
                        out.flush();
                        Thread.sleep(250); // pacing the slow client, not waiting for an outcome
                    }
                } catch (IOException | InterruptedException e) {
                    // cut off: what this test expects
                }
            });
            RawHttp.Answer answer = RawHttp.read(socket.getInputStream());
            long answeredMs = elapsedMs(started);
            stop.set(true);
            trickle.get(5, TimeUnit.SECONDS);
            System.out.printf("trickled body %s: 408 after %d ms%n", path, answeredMs);
            assertThat(answer).isNotNull();
            assertThat(answer.status()).isEqualTo(408);
            assertThat(answer.body()).contains("request body not received within 3s");
            assertThat(answeredMs).isBetween(BODY_TIMEOUT, BODY_TIMEOUT + MARGIN);
        }
        assertThat(RawHttp.refused(meters, "body_timeout")).isEqualTo(before + 1);
    }

    /** Keep-alive still works inside the idle timeout; an idle connection is closed once it passes. */
    @Test
    void anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        String sample = sample();
        try (KeepAliveConnection connection = new KeepAliveConnection(port, Duration.ofSeconds(5));
                Socket socket = RawHttp.connect(port, Duration.ofMillis(IDLE_TIMEOUT + MARGIN))) {
            for (int i = 0; i < 3; i++) {
                connection.send(KeepAliveConnection.post("/v1/regno/predict", RawHttp.KEY, sample));
                assertThat(connection.read().status()).isEqualTo(200);
            }
            OutputStream out = socket.getOutputStream();
            out.write(KeepAliveConnection.post("/v1/regno/predict", RawHttp.KEY, sample)
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
            out.flush();
            RawHttp.Answer answer = RawHttp.read(socket.getInputStream());
            long answered = System.nanoTime();
            assertThat(answer.status()).as(answer.body()).isEqualTo(200);
            assertThat(RawHttp.closedByServer(socket)).as("closed within idle timeout + margin").isTrue();
            long idleMs = elapsedMs(answered);
            System.out.printf("idle keep-alive connection closed %d ms after its answer%n", idleMs);
            assertThat(idleMs).isBetween(IDLE_TIMEOUT - 100, IDLE_TIMEOUT + MARGIN);
        }
    }

    /**
     * 200 connections sending their headers a byte every 250 ms (slowloris) while a normal client keeps scoring:
     * every one of its requests is answered 200, promptly, and every slow connection is answered 408 and closed at the
     * head timeout.
     * Netty's pooled memory does not grow with them.
     */
    @Test
    void twoHundredSlowlorisConnectionsDoNotStopScoringAndAreAllCut() throws Exception {
        int slow = 200;
        String sample = sample();
        double refusedBefore = RawHttp.refused(meters, "head_timeout");
        long pooledBefore = OversizedBodyTest.pooled();
        long pooledPeak = pooledBefore;
        byte[] head = RawHttp.ascii(RawHttp.postHead("/v1/regno/predict", "Content-Length: 2"));
        List<Long> latenciesMs = new ArrayList<>();
        Map<SocketChannel, long[]> open = new HashMap<>(); // channel -> {started, bytes sent}
        Map<SocketChannel, Long> cutAfterMs = new HashMap<>();
        Map<SocketChannel, String> answers = new HashMap<>();
        try (Selector selector = Selector.open();
                KeepAliveConnection normal = new KeepAliveConnection(port, Duration.ofSeconds(5))) {
            for (int i = 0; i < slow; i++) {
                SocketChannel channel = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
                channel.configureBlocking(false);
                channel.register(selector, SelectionKey.OP_READ);
                open.put(channel, new long[] {System.nanoTime(), 0});
            }
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HEAD_TIMEOUT + 2 * MARGIN + 2_000);
            long nextByte = 0;
            ByteBuffer sink = ByteBuffer.allocate(4096);
            while (cutAfterMs.size() < slow && System.nanoTime() < deadline) {
                long now = System.nanoTime();
                if (now >= nextByte) {
                    // Pacing the slow clients: one more byte on each open connection every 250 ms.
                    for (var entry : open.entrySet()) {
                        long[] state = entry.getValue();
                        if (!cutAfterMs.containsKey(entry.getKey()) && state[1] < head.length) {
                            if (state[1] == 0) {
                                state[0] = System.nanoTime();
                            }
                            try {
                                entry.getKey().write(ByteBuffer.wrap(head, (int) state[1], 1));
                                state[1]++;
                            } catch (IOException e) {
                                cutAfterMs.put(entry.getKey(), elapsedMs(state[0]));
                            }
                        }
                    }
                    nextByte = now + TimeUnit.MILLISECONDS.toNanos(250);
                }
                // A normal client scores meanwhile, on its keep-alive connection.
                long sent = System.nanoTime();
                normal.send(KeepAliveConnection.post("/v1/regno/predict", RawHttp.KEY, sample));
                KeepAliveConnection.Answer answer = normal.read();
                assertThat(answer.status()).isEqualTo(200);
                latenciesMs.add(elapsedMs(sent));
                pooledPeak = Math.max(pooledPeak, OversizedBodyTest.pooled());
                // Which slow connections has the server answered and closed?
                selector.selectNow();
                for (SelectionKey key : selector.selectedKeys()) {
                    SocketChannel channel = (SocketChannel) key.channel();
                    int n;
                    try {
                        do {
                            sink.clear();
                            n = channel.read(sink);
                            if (n > 0) {
                                answers.merge(channel, new String(sink.array(), 0, n, StandardCharsets.ISO_8859_1),
                                        String::concat);
                            }
                        } while (n > 0);
                    } catch (IOException e) {
                        n = -1;
                    }
                    if (n < 0 && !cutAfterMs.containsKey(channel)) {
                        cutAfterMs.put(channel, elapsedMs(open.get(channel)[0]));
                        key.cancel();
                    }
                }
                selector.selectedKeys().clear();
            }
        } finally {
            for (SocketChannel channel : open.keySet()) {
                channel.close();
            }
        }
        long maxCut = cutAfterMs.values().stream().mapToLong(Long::longValue).max().orElse(-1);
        long minCut = cutAfterMs.values().stream().mapToLong(Long::longValue).min().orElse(-1);
        long maxLatency = latenciesMs.stream().mapToLong(Long::longValue).max().orElse(-1);
        System.out.printf("slowloris: %d of %d cut after %d..%d ms; %d scoring requests meanwhile, max %d ms;"
                + " pooled Netty memory +%d bytes%n", cutAfterMs.size(), slow, minCut, maxCut, latenciesMs.size(),
                maxLatency, pooledPeak - pooledBefore);
        assertThat(cutAfterMs).as("slow connections cut").hasSize(slow);
        // Answered 408 by the head timeout, not silently dropped by the (longer) idle timeout.
        assertThat(answers.values()).as("answers to the slow connections").hasSize(slow)
                .allMatch(answer -> answer.startsWith("HTTP/1.1 408 "));
        assertThat(RawHttp.refused(meters, "head_timeout")).as("counted by reason").isEqualTo(refusedBefore + slow);
        assertThat(minCut).isGreaterThanOrEqualTo(HEAD_TIMEOUT);
        // The pacing adds up to 250 ms to seeing the cut on top of the scheduling margin.
        assertThat(maxCut).isLessThan(HEAD_TIMEOUT + MARGIN + 250);
        assertThat(latenciesMs).as("scoring requests answered meanwhile").hasSizeGreaterThan(20);
        assertThat(maxLatency).as("slowest scoring request while 200 slow connections are open").isLessThan(1_000);
        assertThat(pooledPeak - pooledBefore).isLessThan(16L * 1024 * 1024);
    }

    private static long elapsedMs(long startedNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
    }
}

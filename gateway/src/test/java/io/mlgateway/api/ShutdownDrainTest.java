package io.mlgateway.api;

import static io.mlgateway.rentals.RentalsTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlgateway.GatewayApplication;
import io.mlgateway.shared.testing.KeyHashes;
import io.mlgateway.shared.testing.LocalServices;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A gateway told to stop with {@code gateway.http.shutdown-drain} set: its readiness answers 503 at once while it
 * keeps scoring for the drain, and only then does it stop taking requests.
 */
class ShutdownDrainTest {

    private static final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private static final String KEY = "drain-test-key";
    private static final long DRAIN_MS = 2_000;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** What one poll during the shutdown saw. */
    private record Seen(long afterMs, int readiness, int predict) {
    }

    @Test
    void aStoppingGatewayIsNotReadyButKeepsScoringForTheDrainThenStops() throws Exception {
        Map<String, Object> properties = new HashMap<>(db.springProperties());
        properties.put("gateway.api.api-keys", KeyHashes.sha256(KEY));
        properties.put("server.port", 0);
        properties.put("management.server.port", 0);
        properties.put("gateway.http.shutdown-drain", DRAIN_MS + "ms");
        ConfigurableApplicationContext context = new SpringApplicationBuilder(GatewayApplication.class).run(
                properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new));
        int port = ((WebServerApplicationContext) context).getWebServer().getPort();
        int management = context.getEnvironment().getRequiredProperty("local.management.port", Integer.class);
        String readiness = "http://127.0.0.1:" + management + "/actuator/health/readiness";
        String predict = "http://127.0.0.1:" + port + "/v1/regno/predict";
        await("ready before the shutdown", Duration.ofSeconds(90), () -> status(readiness) == 200);

        long started = System.nanoTime();
        CompletableFuture<Void> closing = CompletableFuture.runAsync(context::close);
        List<Seen> seen = new ArrayList<>();
        // Sampling while the close runs (it ends by itself, after the drain): one poll every 100 ms.
        while (!closing.isDone()) {
            seen.add(new Seen(elapsedMs(started), status(readiness), score(predict)));
            Thread.sleep(100);
        }
        closing.get(30, TimeUnit.SECONDS);
        long closedMs = elapsedMs(started);

        // While draining: not ready, every request still scored (a poll racing the very end may find it closed).
        List<Seen> draining = seen.stream().filter(s -> s.afterMs() < DRAIN_MS - 200).toList();
        assertThat(draining).as("polls during the drain: %s", seen).hasSizeGreaterThan(5);
        assertThat(draining).allSatisfy(s -> {
            assertThat(s.predict()).as("scored while draining: %s", s).isEqualTo(200);
        });
        assertThat(draining.stream().skip(1)).as("readiness after the first poll: %s", seen)
                .allSatisfy(s -> assertThat(s.readiness()).isEqualTo(503));
        assertThat(closedMs).as("the close waited for the drain").isGreaterThanOrEqualTo(DRAIN_MS);
        assertThatThrownBy(() -> http.send(post(predict), HttpResponse.BodyHandlers.discarding()))
                .as("no longer listening").isInstanceOf(IOException.class);
    }

    private int status(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private int score(String url) throws Exception {
        try {
            return http.send(post(url), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        }
    }

    private static HttpRequest post(String url) throws IOException {
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).header("x-api-key", KEY)
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(SlowClientTest.sample())).build();
    }

    private static long elapsedMs(long since) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
    }
}

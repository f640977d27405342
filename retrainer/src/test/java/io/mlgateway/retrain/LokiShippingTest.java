package io.mlgateway.retrain;

import static io.mlgateway.retrain.RetrainFixtures.actuals;
import static io.mlgateway.retrain.RetrainFixtures.databaseWithBaseModel;
import static io.mlgateway.retrain.RetrainFixtures.newUser;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.mlgateway.shared.testing.LocalServices;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the retrainer ships to Loki, received on a local HTTP endpoint that speaks Loki's push API: the stream
 * labels are service, env and level only, and one real retrain cycle produces the five step events of the
 * customer's sequence with their figures as JSON fields of the log line.
 */
class LokiShippingTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static LocalServices.TestDatabase db;
    private static HttpServer loki;
    /** Every pushed entry: its stream labels and its log line parsed as JSON. */
    private static final List<Entry> entries = new CopyOnWriteArrayList<>();

    record Entry(Map<String, String> labels, JsonNode line) {
    }

    @BeforeAll
    static void start() throws Exception {
        db = databaseWithBaseModel();
        loki = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        loki.createContext("/loki/api/v1/push", exchange -> {
            byte[] body;
            try (InputStream in = "gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))
                    ? new GZIPInputStream(exchange.getRequestBody()) : exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            for (JsonNode stream : JSON.readTree(body).get("streams")) {
                Map<String, String> labels = new java.util.TreeMap<>();
                stream.get("stream").properties().forEach(e -> labels.put(e.getKey(), e.getValue().stringValue()));
                for (JsonNode value : stream.get("values")) {
                    entries.add(new Entry(labels, JSON.readTree(value.get(1).stringValue())));
                }
            }
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        loki.start();
    }

    @AfterAll
    static void stop() {
        loki.stop(0);
    }

    @Test
    void labelsAreLowCardinalityAndARetrainShipsItsFiveEventsWithTheirFigures() throws Exception {
        System.setProperty("LOKI_URL", "http://127.0.0.1:" + loki.getAddress().getPort() + "/loki/api/v1/push");
        ConfigurableApplicationContext app;
        try {
            app = RetrainerApps.start(db,
                    "--logging.loki.env=ci-test",
                    "--logging.loki.batch-timeout-ms=200",
                    "--retrainer.sweep-interval=1s",
                    "--retrainer.outbox-interval=300ms",
                    "--retrainer.max-mae-ratio=1000");
        } finally {
            // Read once, at start-up; later apps in this JVM must not ship to Loki.
            System.clearProperty("LOKI_URL");
        }
        String user = newUser("loki");
        try {
            actuals(db, user, 50);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (event(user, "retrain.notify").isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
        } finally {
            app.close();
        }

        assertThat(entries).isNotEmpty();
        for (Entry e : entries) {
            assertThat(e.labels().keySet()).containsExactly("env", "level", "service");
            assertThat(e.labels()).containsEntry("service", "retrainer").containsEntry("env", "ci-test");
            assertThat(e.labels().values()).noneMatch(v -> v.contains(user));
        }
        assertThat(event(user, "retrain.check")).hasValueSatisfying(e -> assertThat(e.get("count").asLong()).isEqualTo(50));
        assertThat(event(user, "retrain.read")).hasValueSatisfying(e -> assertThat(e.get("rows").asLong()).isEqualTo(50));
        assertThat(event(user, "retrain.fit")).hasValueSatisfying(e -> {
            assertThat(e.get("samples_used").asLong()).isEqualTo(40); // 50 minus the 20% validation holdout
            assertThat(e.get("processing_time_ms").asLong()).isNotNegative();
        });
        assertThat(event(user, "retrain.cache_evict"))
                .hasValueSatisfying(e -> assertThat(e.get("key").stringValue()).isEqualTo("model:" + user));
        assertThat(event(user, "retrain.notify"))
                .hasValueSatisfying(e -> assertThat(e.get("topic").stringValue()).isEqualTo("model-retrained"));
        // The line carries the level and message too, so an operator reading it in Grafana needs nothing else.
        JsonNode fit = event(user, "retrain.fit").orElseThrow();
        assertThat(fit.get("level").stringValue()).isEqualTo("INFO");
        assertThat(fit.get("message").stringValue()).isNotBlank();
    }

    private static Optional<JsonNode> event(String user, String name) {
        List<JsonNode> found = new ArrayList<>();
        for (Entry e : entries) {
            JsonNode line = e.line();
            if (line.has("event") && name.equals(line.get("event").stringValue())
                    && line.has("user_id") && user.equals(line.get("user_id").stringValue())) {
                found.add(line);
            }
        }
        return found.stream().findFirst();
    }
}

package io.mlgateway.retrain;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.notify.ModelRetrainedMessage;
import io.mlgateway.shared.testing.AppProcess;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.Registries;
import io.mlgateway.shared.training.BikeSharingData;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The customer's loop end to end on the real services: 50 predictions for a fresh user through the packaged
 * gateway (its own process), 49 actuals (nothing happens), the 50th, then within seconds a new version in the
 * registry, the stale {@code model:{user}} deleted from Redis, a success message on {@code model-retrained}, the gateway
 * answering with the new version, and every step's log event with its figure.
 */
class RetrainEndToEndTest {

    private static final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private static GatewayProcess gateway;
    private static ConfigurableApplicationContext retrainer;
    private static CapturedEvents events;
    private static final List<ConsumerRecord<String, byte[]>> messages = new CopyOnWriteArrayList<>();
    private static Thread consumerThread;
    private static volatile boolean consuming = true;
    private static volatile boolean assigned;

    @BeforeAll
    static void start() throws Exception {
        startConsumer();
        Map<String, String> environment = new java.util.HashMap<>(AppProcess.services(db));
        // Only the Kafka message can explain a swap within the test's seconds.
        environment.put("GATEWAY_MODEL_CACHE_VERSION_CHECK_INTERVAL", "10m");
        environment.put("GATEWAY_RENTALS_STARTUP_RETRY", "500ms");
        gateway = GatewayProcess.start(environment);
        retrainer = RetrainerApps.start(db,
                "--retrainer.sweep-interval=2s",
                "--retrainer.outbox-interval=500ms",
                "--logging.level.retrain=debug"); // checks that find too few actuals log at debug
        // After start-up: Spring Boot resets Logback's configuration while starting.
        events = CapturedEvents.attach();
    }

    @AfterAll
    static void stop() throws Exception {
        consuming = false;
        if (retrainer != null) {
            retrainer.close();
        }
        if (gateway != null) {
            gateway.close();
        }
        if (consumerThread != null) {
            consumerThread.join(10_000);
        }
        events.detach();
    }

    private static void startConsumer() {
        consumerThread = new Thread(() -> {
            try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, LocalServices.kafkaBootstrap(),
                    ConsumerConfig.GROUP_ID_CONFIG, "e2e-" + UUID.randomUUID(),
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest",
                    ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                    ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))) {
                consumer.subscribe(List.of(ModelRetrainedMessage.TOPIC));
                while (consuming) {
                    consumer.poll(Duration.ofMillis(200)).forEach(messages::add);
                    assigned = !consumer.assignment().isEmpty();
                }
            }
        }, "e2e-consumer");
        consumerThread.setDaemon(true);
        consumerThread.start();
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("timed out after " + timeout + " waiting for " + what + "\ngateway log tail:\n"
                + tail(gateway.log()));
    }

    private static String tail(String log) {
        return log.length() > 4000 ? log.substring(log.length() - 4000) : log;
    }

    private static String features(BikeSharingData.Hour hour) {
        StringBuilder json = new StringBuilder("{\"features\":{");
        for (int i = 0; i < RentalFeatures.COUNT; i++) {
            json.append(i == 0 ? "" : ",").append('"').append(RentalFeatures.NAMES.get(i)).append("\":")
                    .append(hour.features()[i]);
        }
        return json.append("}}").toString();
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"?([^\",}]+)").matcher(json);
        assertThat(m.find()).as(name + " in " + json).isTrue();
        return m.group(1);
    }

    private static HttpResponse<String> predict(String user, BikeSharingData.Hour hour) {
        try {
            return gateway.post("/v1/rentals/" + user + "/predict", features(hour));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void fiftyActualsRetrainTheUsersModelAndEveryGatewaySwapsToIt() throws Exception {
        String user = "e2e-" + UUID.randomUUID().toString().substring(0, 8);
        List<BikeSharingData.Hour> hours = BikeSharingData.where(h -> !h.isYear2011()).subList(4000, 4050);
        await("gateway rentals ready", Duration.ofSeconds(90), () -> {
            try {
                return gateway.post("/v1/rentals/" + user + "/predict", features(hours.get(0))).statusCode() == 200;
            } catch (Exception notListeningYet) {
                return false;
            }
        });
        await("test consumer assigned", Duration.ofSeconds(30), () -> assigned);
        ModelRecord base = Registries.over(db.connectionFactory()).current(ModelRegistry.BASE_USER).block();

        List<String> requestIds = new ArrayList<>();
        for (BikeSharingData.Hour hour : hours) {
            HttpResponse<String> answer = predict(user, hour);
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            assertThat(Long.parseLong(field(answer.body(), "model_version"))).isEqualTo(base.version());
            requestIds.add(field(answer.body(), "request_id"));
        }

        // 49 actuals: a check, but nothing else.
        StringBuilder first49 = new StringBuilder("{\"actuals\":[");
        for (int i = 0; i < 49; i++) {
            first49.append(i == 0 ? "" : ",").append("{\"request_id\":\"").append(requestIds.get(i))
                    .append("\",\"actual_value\":").append(hours.get(i).count()).append('}');
        }
        HttpResponse<String> stored = gateway.post("/v1/rentals/actuals", first49.append("]}").toString());
        assertThat(stored.body()).contains("\"stored\":49");
        // The retrainer looked after the 49th (its check saw 49) and decided against a retrain.
        await("a check that counted 49", Duration.ofSeconds(15), () -> events.of("retrain.check", user).stream()
                .anyMatch(e -> Long.valueOf(49).equals(e.get("count"))));
        ModelRegistry registry = Registries.over(db.connectionFactory());
        assertThat(registry.current(user).blockOptional()).isEmpty();
        assertThat(events.of("retrain.fit", user)).isEmpty();
        assertThat(messages.stream().filter(m -> user.equals(m.key()))).isEmpty();

        RedisClient redisClient = RedisClient.create(LocalServices.redisUri());
        try (StatefulRedisConnection<String, String> redis = redisClient.connect()) {
            // A stale cache entry the retrain must delete.
            redis.sync().hset("model:" + user, Map.of("version", "0", "format", "stale", "bytes", "x"));

            HttpResponse<String> fiftieth = gateway.post("/v1/rentals/actuals", "{\"actuals\":[{\"request_id\":\""
                    + requestIds.get(49) + "\",\"actual_value\":" + hours.get(49).count() + "}]}");
            assertThat(fiftieth.body()).contains("\"stored\":1");

            await("a new version in the registry", Duration.ofSeconds(30), () -> registry.current(user).blockOptional().isPresent());
            ModelRecord retrained = registry.current(user).block();
            assertThat(retrained.parentVersion()).isEqualTo(base.version());
            // The default policy: the shared base plus the user's own 50 residual trees.
            assertThat(retrained.numTrees()).isEqualTo(base.numTrees() + 50);
            assertThat(retrained.baseVersion()).isEqualTo(base.version());
            // The retrainer deletes the stale entry; a gateway that swaps in the new version in the background may
            // cache that version there again at once, so "gone" is: absent, or holding the new version.
            await("stale model:" + user + " deleted", Duration.ofSeconds(15), () -> {
                String cached = redis.sync().hget("model:" + user, "version");
                return cached == null || Long.parseLong(cached) == retrained.version();
            });
            await("model-retrained message", Duration.ofSeconds(15), () -> messages.stream().anyMatch(m -> user.equals(m.key())));
            ModelRetrainedMessage message = ModelRetrainedMessage.fromJson(
                    messages.stream().filter(m -> user.equals(m.key())).findFirst().orElseThrow().value());
            assertThat(message).isEqualTo(ModelRetrainedMessage.success(user, retrained.version()));
            await("gateway serves the new version", Duration.ofSeconds(15), () ->
                    Long.parseLong(field(predict(user, hours.get(0)).body(), "model_version")) == retrained.version());
        } finally {
            redisClient.shutdown();
        }

        // Every step logged with its figure.
        assertThat(events.of("retrain.check", user)).anySatisfy(e -> assertThat(e.get("count")).isEqualTo(50L));
        assertThat(events.of("retrain.read", user)).singleElement().satisfies(e -> {
            assertThat(e.get("rows")).isEqualTo(50);
            assertThat((Long) e.get("read_ms")).isNotNegative();
        });
        assertThat(events.of("retrain.fit", user)).singleElement().satisfies(e -> {
            assertThat(e.get("samples_used")).isEqualTo(40); // 10 of the 50 validate the fit
            assertThat((Long) e.get("processing_time_ms")).isPositive();
        });
        assertThat(events.of("retrain.cache_evict", user)).singleElement().satisfies(e -> {
            assertThat(e.get("key")).isEqualTo("model:" + user);
            assertThat(((Number) e.get("removed")).longValue()).as("keys deleted").isEqualTo(1L);
        });
        assertThat(events.of("retrain.notify", user)).singleElement()
                .satisfies(e -> assertThat(e.get("topic")).isEqualTo("model-retrained"));
        // The 49 actuals were all consumed by this version, the 50th too: none is left new.
        assertThat(db.count("SELECT count(*) FROM actual_rentals WHERE user_id = '" + user + "' AND used_in_version IS NULL"))
                .isZero();
        assertThat(db.count("SELECT count(*) FROM retrain_outbox WHERE published_at IS NULL")).isZero();
    }
}

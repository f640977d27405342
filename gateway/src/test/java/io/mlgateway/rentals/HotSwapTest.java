package io.mlgateway.rentals;

import static io.mlgateway.rentals.RentalsTestSupport.JSON;
import static io.mlgateway.rentals.RentalsTestSupport.await;
import static io.mlgateway.rentals.RentalsTestSupport.body;
import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.GatewayApplication;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.modelstore.NewModel;
import io.mlgateway.shared.modelstore.RedisModelCache;
import io.mlgateway.shared.notify.ModelRetrainedMessage;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.TestModels;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.modelstore.ModelLoader;
import io.mlgateway.modelstore.MemoryTier;
import io.mlgateway.modelstore.ModelSwapListener;
import io.mlgateway.modelstore.ServedModel;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * Two gateway instances serve a user; a retrain is announced on Kafka (as the retrainer does: store, DEL the
 * Redis key, publish); both switch to the new version without a restart. The periodic version check is set to
 * ten minutes so that only the Kafka message can explain the switch. A second retrain shows the swap of a user
 * being served: the new version is loaded before any request asks for it, built on the same in-memory base.
 */
class HotSwapTest {

    private static final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private static ConfigurableApplicationContext first;
    private static ConfigurableApplicationContext second;

    @BeforeAll
    static void startTwoInstances() {
        first = start();
        second = start();
    }

    @AfterAll
    static void stop() {
        first.close();
        second.close();
    }

    private static ConfigurableApplicationContext start() {
        Map<String, Object> properties = new HashMap<>(RentalsTestSupport.properties(db));
        properties.put("server.port", 0);
        properties.put("management.server.port", 0);
        properties.put("gateway.model-cache.version-check-interval", "10m");
        // As command-line arguments: they outrank application.yml (default properties would not).
        return new SpringApplicationBuilder(GatewayApplication.class).run(properties.entrySet().stream()
                .map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new));
    }

    private static WebTestClient client(ConfigurableApplicationContext context) {
        int port = ((WebServerApplicationContext) context).getWebServer().getPort();
        return WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(Duration.ofSeconds(30)).build();
    }

    private static long servedVersion(ConfigurableApplicationContext context, String user, BikeSharingData.Hour hour) {
        byte[] body = client(context).post().uri("/v1/rentals/" + user + "/predict").header("x-api-key", "rentals-test-key")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(JSON.writeValueAsString(body(hour)))
                .exchange().expectStatus().isOk().expectBody().returnResult().getResponseBody();
        return JSON.readTree(body).get("model_version").longValue();
    }

    @Test
    void aModelRetrainedMessageSwitchesEveryInstance() throws Exception {
        await("both instances ready", Duration.ofSeconds(90), () -> first.getBean(RentalsReadiness.class).isReady()
                && second.getBean(RentalsReadiness.class).isReady());
        await("both consumers assigned", Duration.ofSeconds(60), () -> first.getBean(ModelSwapListener.class).isAssigned()
                && second.getBean(ModelSwapListener.class).isAssigned());

        List<BikeSharingData.Hour> hours = BikeSharingData.load();
        String user = "swap-" + UUID.randomUUID().toString().substring(0, 8);
        ModelRegistry registry = first.getBean(ModelRegistry.class);
        ModelRecord base = registry.current(ModelRegistry.BASE_USER).block();
        assertThat(servedVersion(first, user, hours.get(0))).isEqualTo(base.version());
        assertThat(servedVersion(second, user, hours.get(0))).isEqualTo(base.version());

        // The retrainer's sequence: store the new version, delete the Redis key, announce on Kafka.
        ModelRecord stored = retrain(user, TestModels.continued(user, base, null, hours.subList(0, 50), 2), null);

        await("first instance serves the new version", Duration.ofSeconds(15),
                () -> servedVersion(first, user, hours.get(1)) == stored.version());
        await("second instance serves the new version", Duration.ofSeconds(15),
                () -> servedVersion(second, user, hours.get(1)) == stored.version());

        // A second retrain of a user each instance serves: the new version is loaded in the background, with no
        // request asking for it, and replaces the old one; it scores on top of the base model already in memory.
        assertThat(first.getBean(MemoryTier.class).models().get(user).version()).isEqualTo(stored.version());
        ModelRecord again = retrain(user, TestModels.continued(user, base, stored, hours.subList(50, 100), 2),
                stored.version());
        for (ConfigurableApplicationContext instance : List.of(first, second)) {
            await("new version in memory before any request", Duration.ofSeconds(15), () -> {
                ServedModel cached = instance.getBean(MemoryTier.class).models().get(user);
                return cached != null && cached.version() == again.version();
            });
            ServedModel swapped = instance.getBean(MemoryTier.class).models().get(user);
            assertThat(swapped.scoring().base()).isSameAs(instance.getBean(ModelLoader.class).loadedBase().scoring());
            assertThat(swapped.scoring().ownTrees().trees()).isEqualTo(4);
        }
        assertThat(servedVersion(first, user, hours.get(2))).isEqualTo(again.version());
        assertThat(servedVersion(second, user, hours.get(2))).isEqualTo(again.version());
    }

    /**
     * Stores {@code model} as the user's new version (the head must still be {@code head}), deletes its Redis key
     * and announces it on Kafka.
     */
    private static ModelRecord retrain(String user, NewModel model, Long head) throws Exception {
        ModelRecord stored = first.getBean(ModelRegistry.class).store(model, head).block();
        first.getBean(RedisModelCache.class).evict(user).block(Duration.ofSeconds(5));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, LocalServices.kafkaBootstrap(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
            producer.send(new ProducerRecord<>(ModelRetrainedMessage.TOPIC, user,
                    ModelRetrainedMessage.success(user, stored.version()).toJson())).get();
        }
        return stored;
    }
}

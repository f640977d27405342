package io.mlgateway.rentals;

import static io.mlgateway.rentals.RentalsTestSupport.JSON;
import static io.mlgateway.rentals.RentalsTestSupport.await;
import static io.mlgateway.rentals.RentalsTestSupport.body;
import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.GatewayApplication;
import io.mlgateway.core.modelstore.ModelFormat;
import io.mlgateway.core.modelstore.ModelRecord;
import io.mlgateway.core.modelstore.ModelRegistry;
import io.mlgateway.core.modelstore.NewModel;
import io.mlgateway.core.modelstore.RedisModelCache;
import io.mlgateway.core.notify.ModelRetrainedMessage;
import io.mlgateway.core.testing.LocalServices;
import io.mlgateway.core.training.BikeSharingData;
import io.mlgateway.core.training.BoosterTrainer;
import io.mlgateway.core.training.TrainingSet;
import io.mlgateway.modelstore.LoadedModel;
import io.mlgateway.modelstore.ModelResolver;
import io.mlgateway.modelstore.ModelSwapListener;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import ml.dmlc.xgboost4j.java.Booster;
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
 * being served: the new version is loaded before any request asks for it, and the old booster is freed.
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
        Booster start = ModelFormat.deserialize(base.format(), base.bytes());
        Booster next = BoosterTrainer.continueFrom(start, TrainingSet.of(hours.subList(0, 50)), 2);
        ModelRecord stored = retrain(registry, user, base.version(), null, next);
        start.dispose();

        await("first instance serves the new version", Duration.ofSeconds(15),
                () -> servedVersion(first, user, hours.get(1)) == stored.version());
        await("second instance serves the new version", Duration.ofSeconds(15),
                () -> servedVersion(second, user, hours.get(1)) == stored.version());

        // A second retrain of a user each instance serves: the new version is loaded in the background, with no
        // request asking for it, and replaces the old one, whose booster is then freed (nothing holds it).
        LoadedModel firstOwn = first.getBean(ModelResolver.class).cachedModels().get(user);
        LoadedModel secondOwn = second.getBean(ModelResolver.class).cachedModels().get(user);
        assertThat(firstOwn.version()).isEqualTo(stored.version());
        Booster after = BoosterTrainer.continueFrom(next, TrainingSet.of(hours.subList(50, 100)), 2);
        ModelRecord again = retrain(registry, user, stored.version(), stored.version(), after);
        next.dispose();
        after.dispose();
        for (ConfigurableApplicationContext instance : List.of(first, second)) {
            await("new version in memory before any request", Duration.ofSeconds(15), () -> {
                LoadedModel cached = instance.getBean(ModelResolver.class).cachedModels().get(user);
                return cached != null && cached.version() == again.version();
            });
        }
        assertThat(firstOwn.isDisposed()).isTrue();
        assertThat(secondOwn.isDisposed()).isTrue();
        assertThat(servedVersion(first, user, hours.get(2))).isEqualTo(again.version());
        assertThat(servedVersion(second, user, hours.get(2))).isEqualTo(again.version());
    }

    /**
     * Stores {@code booster} as the user's new version (the head must still be {@code head}), deletes its Redis key
     * and announces it on Kafka.
     */
    private static ModelRecord retrain(ModelRegistry registry, String user, long parent, Long head, Booster booster)
            throws Exception {
        ModelRecord stored = registry.store(new NewModel(user, parent, ModelFormat.XGBOOST_UBJ,
                ModelFormat.serialize(booster), BoosterTrainer.trees(booster), "{}"), head).block();
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

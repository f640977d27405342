package io.mlgateway.retrain;

import static io.mlgateway.retrain.RetrainFixtures.TIMEOUT;
import static io.mlgateway.retrain.RetrainFixtures.actuals;
import static io.mlgateway.retrain.RetrainFixtures.await;
import static io.mlgateway.retrain.RetrainFixtures.databaseWithBaseModel;
import static io.mlgateway.retrain.RetrainFixtures.newUser;
import static io.mlgateway.retrain.RetrainFixtures.outbox;
import static io.mlgateway.retrain.RetrainFixtures.props;
import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.mlgateway.shared.modelstore.RedisModelCache;
import io.mlgateway.shared.notify.ModelRetrainedMessage;
import io.mlgateway.shared.notify.OutboxEntry;
import io.mlgateway.shared.storage.Connections;
import io.mlgateway.shared.storage.KafkaConnectionProperties;
import io.mlgateway.shared.storage.LazyRedisConnection;
import io.mlgateway.shared.storage.RedisConnectionProperties;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.TcpProxy;
import io.mlgateway.retrain.RetrainFixtures.Instance;
import io.mlgateway.retrain.RetrainFixtures.OutboxRow;
import io.mlgateway.retrain.RetrainFixtures.TopicReader;
import io.mlgateway.retrain.RetrainPipeline.Outcome;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.kafka.sender.KafkaSender;
import reactor.test.StepVerifier;

/**
 * A stored version is always announced ({@code DEL model:{user}}, then the Kafka message), on the real services:
 * after the process died between store and notify, and while Redis or Kafka is unreachable.
 */
class OutboxRelayTest {

    private static LocalServices.TestDatabase db;
    private static RedisClient plainRedis;
    private static StatefulRedisConnection<String, String> redisProbe;
    private CapturedEvents log;

    @BeforeAll
    static void services() {
        db = databaseWithBaseModel();
        plainRedis = RedisClient.create(LocalServices.redisUri());
        redisProbe = plainRedis.connect();
    }

    @AfterAll
    static void close() {
        redisProbe.close();
        plainRedis.shutdown();
    }

    @BeforeEach
    void capture() {
        log = CapturedEvents.attach();
    }

    @AfterEach
    void release() {
        log.detach();
    }

    /** The retrainer's Redis side as RetrainerConfiguration wires it (lazy connection, commands rejected while down). */
    private static final class Redis implements AutoCloseable {

        final RedisClient client;
        final LazyRedisConnection connection;
        final RedisModelCache cache;

        Redis(String url) {
            RedisConnectionProperties properties = new RedisConnectionProperties(url, Duration.ofSeconds(2));
            client = Connections.redisClient(properties);
            connection = new LazyRedisConnection(client, url, properties.timeout());
            cache = new RedisModelCache(Mono.defer(connection::commands), Duration.ofHours(1));
        }

        @Override
        public void close() {
            connection.destroy();
            client.shutdown();
        }
    }

    /** The retrainer's production Kafka sender (acks=all, idempotent, 5 s max block), for the given brokers. */
    private static KafkaSender<String, byte[]> kafka(String bootstrap) {
        return new RetrainerConfiguration().kafkaSender(new KafkaConnectionProperties(bootstrap));
    }

    private static void cacheStaleModel(String user) {
        redisProbe.sync().hset(RedisModelCache.key(user), Map.of("version", "0", "format", "stale", "bytes", "x"));
    }

    private static boolean cached(String user) {
        return redisProbe.sync().exists(RedisModelCache.key(user)) == 1;
    }

    private static long head(Instance instance, String user) {
        return instance.registry.current(user).block(TIMEOUT).version();
    }

    // --- rule 2 --------------------------------------------------------------------------------------------------

    @Test
    void aVersionStoredBeforeTheProcessDiedIsAnnouncedAfterARestartAndADuplicateIsHarmless() throws Exception {
        String user = newUser("crash");
        long version;
        // The first process stores the version, then dies before its relay runs (it never started).
        try (Instance crashed = new Instance(db, "crashed")) {
            actuals(db, user, 50);
            assertThat(crashed.pipeline(props().build()).run(user).block(TIMEOUT)).isEqualTo(Outcome.RETRAINED);
            version = head(crashed, user);
        }
        assertThat(outbox(db, user)).containsExactly(
                new OutboxRow(outbox(db, user).get(0).id(), ModelRetrainedMessage.success(user, version), false));
        cacheStaleModel(user);

        try (TopicReader topic = new TopicReader(user);
                Instance restarted = new Instance(db, "restarted");
                Redis redis = new Redis(LocalServices.redisUri())) {
            KafkaSender<String, byte[]> kafka = kafka(LocalServices.kafkaBootstrap());
            OutboxRelay relay = new OutboxRelay(restarted.store, redis.cache, kafka, restarted.events,
                    props().outboxInterval(Duration.ofMillis(500)).build());
            try {
                relay.start(); // the restarted process: its relay finds the entry on its first tick
                await("the entry published", Duration.ofSeconds(30), () -> outbox(db, user).get(0).published());
                relay.stop();
                assertThat(cached(user)).as("model:" + user + " deleted").isFalse();
                assertThat(topic.await(1, Duration.ofSeconds(30)))
                        .containsExactly(ModelRetrainedMessage.success(user, version));

                // A second send of the same entry (two relays, or a crash between send and mark): a duplicate
                // message, which consumers tolerate; the outbox still holds one entry, published.
                OutboxRow row = outbox(db, user).get(0);
                OutboxEntry entry = new OutboxEntry(row.id(), user, ModelRetrainedMessage.SUCCESS, version, null);
                StepVerifier.create(relay.publish(entry)).expectNext(entry).expectComplete().verify(TIMEOUT);
                assertThat(topic.await(2, Duration.ofSeconds(30))).containsExactly(
                        ModelRetrainedMessage.success(user, version), ModelRetrainedMessage.success(user, version));
                assertThat(outbox(db, user)).singleElement().satisfies(r -> assertThat(r.published()).isTrue());
                assertThat(restarted.store.unpublished(1000).filter(e -> e.userId().equals(user)).collectList()
                        .block(TIMEOUT)).isEmpty();
            } finally {
                relay.stop();
                kafka.close();
            }
        }
    }

    // --- rule 3 --------------------------------------------------------------------------------------------------

    @Test
    void whileRedisIsDownTheAnnouncementWaitsAndGoesOutWhenRedisIsBack() {
        String user = newUser("redis-down");
        String other = newUser("redis-down-other");
        actuals(db, user, 50);
        actuals(db, other, 50);
        RetrainProperties p = props().outboxInterval(Duration.ofMillis(300)).build();
        try (TopicReader topic = new TopicReader(user);
                TcpProxy proxy = TcpProxy.start(LocalServices.redisPort());
                Redis redis = new Redis("redis://127.0.0.1:" + proxy.port());
                Instance retrainer = new Instance(db, "retrainer")) {
            KafkaSender<String, byte[]> kafka = kafka(LocalServices.kafkaBootstrap());
            OutboxRelay relay = new OutboxRelay(retrainer.store, redis.cache, kafka, retrainer.events, p);
            try {
                redis.cache.evict("warm-up").block(TIMEOUT); // connected through the proxy, as in production
                cacheStaleModel(user);
                proxy.cut();
                relay.start();

                RetrainPipeline pipeline = retrainer.pipeline(p, new ModelFitter(p), relay);
                assertThat(pipeline.run(user).block(TIMEOUT)).isEqualTo(Outcome.RETRAINED);
                long version = head(retrainer, user);
                await("retried evictions", Duration.ofSeconds(20),
                        () -> retrainer.counter("retrainer.outbox.failures", "stage", "cache_evict") >= 3);
                assertThat(outbox(db, user)).singleElement().satisfies(r -> assertThat(r.published()).isFalse());
                assertThat(cached(user)).isTrue();
                assertThat(relay.isRunning()).isTrue();
                assertThat(log.of("retrain.outbox_retry")).isNotEmpty()
                        .allSatisfy(e -> assertThat(e.get("stage")).isEqualTo("cache_evict"));
                // The retrainer keeps retraining meanwhile.
                assertThat(pipeline.run(other).block(TIMEOUT)).isEqualTo(Outcome.RETRAINED);

                proxy.restore();
                await("the entry published once Redis is back", Duration.ofSeconds(60),
                        () -> outbox(db, user).get(0).published());
                assertThat(cached(user)).as("model:" + user + " deleted").isFalse();
                assertThat(topic.await(1, Duration.ofSeconds(30)))
                        .containsExactly(ModelRetrainedMessage.success(user, version));
                await("the other user's announcement too", Duration.ofSeconds(30),
                        () -> outbox(db, other).get(0).published());
            } finally {
                relay.stop();
                kafka.close();
            }
        }
    }

    @Test
    void whileKafkaIsUnreachableTheAnnouncementWaitsAndGoesOutOnceItIsReachable() throws IOException {
        String user = newUser("kafka-down");
        actuals(db, user, 50);
        int deadPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            deadPort = socket.getLocalPort(); // closed once this block ends: nothing listens there
        }
        RetrainProperties p = props().outboxInterval(Duration.ofMillis(300)).build();
        try (TopicReader topic = new TopicReader(user);
                Redis redis = new Redis(LocalServices.redisUri());
                Instance retrainer = new Instance(db, "retrainer")) {
            long version;
            KafkaSender<String, byte[]> unreachable = kafka("127.0.0.1:" + deadPort);
            OutboxRelay relay = new OutboxRelay(retrainer.store, redis.cache, unreachable, retrainer.events, p);
            try {
                relay.start();
                cacheStaleModel(user);
                assertThat(retrainer.pipeline(p, new ModelFitter(p), relay).run(user).block(TIMEOUT))
                        .isEqualTo(Outcome.RETRAINED);
                version = head(retrainer, user);
                await("retried sends", Duration.ofSeconds(40),
                        () -> retrainer.counter("retrainer.outbox.failures", "stage", "notify") >= 2);
                assertThat(outbox(db, user)).singleElement().satisfies(r -> assertThat(r.published()).isFalse());
                assertThat(cached(user)).as("evicted before each attempt").isFalse();
                assertThat(relay.isRunning()).isTrue();
                assertThat(log.of("retrain.outbox_retry")).isNotEmpty()
                        .allSatisfy(e -> assertThat(e.get("stage")).isEqualTo("notify"));
            } finally {
                relay.stop();
                unreachable.close();
            }

            // Kafka reachable (a sender whose brokers answer): the waiting entry goes out.
            KafkaSender<String, byte[]> reachable = kafka(LocalServices.kafkaBootstrap());
            OutboxRelay next = new OutboxRelay(retrainer.store, redis.cache, reachable, retrainer.events, p);
            try {
                next.start();
                await("the entry published", Duration.ofSeconds(30), () -> outbox(db, user).get(0).published());
                assertThat(topic.await(1, Duration.ofSeconds(30)))
                        .containsExactly(ModelRetrainedMessage.success(user, version));
            } finally {
                next.stop();
                reachable.close();
            }
        }
    }
}

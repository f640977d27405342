package io.mlgateway.retrain;

import static io.mlgateway.retrain.RetrainFixtures.actuals;
import static io.mlgateway.retrain.RetrainFixtures.await;
import static io.mlgateway.retrain.RetrainFixtures.databaseWithBaseModel;
import static io.mlgateway.retrain.RetrainFixtures.newActuals;
import static io.mlgateway.retrain.RetrainFixtures.newUser;
import static io.mlgateway.retrain.RetrainFixtures.outbox;
import static io.mlgateway.retrain.RetrainFixtures.usage;
import static io.mlgateway.retrain.RetrainFixtures.versions;
import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.mlgateway.shared.modelstore.RedisModelCache;
import io.mlgateway.shared.notify.ModelRetrainedMessage;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.retrain.RetrainFixtures.OutboxRow;
import io.mlgateway.retrain.RetrainFixtures.TopicReader;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;

/**
 * Closing the retrainer (the Spring Boot app, as operators run it) while it works leaves nothing half-done:
 * either the version is committed with its actuals marked and is announced by the next start, or nothing changed
 * and the next start retrains.
 */
class RetrainShutdownTest {

    private static LocalServices.TestDatabase db;
    private static RedisClient plainRedis;
    private static StatefulRedisConnection<String, String> redisProbe;

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

    private static ConfigurableApplicationContext start(String kafkaBootstrap, Class<?>... extraSources) {
        Class<?>[] sources = Stream.concat(Stream.of(RetrainerApplication.class), Stream.of(extraSources))
                .toArray(Class<?>[]::new);
        return new SpringApplicationBuilder(sources).run(
                "--spring.r2dbc.url=" + db.r2dbcUrl(),
                "--spring.r2dbc.username=" + db.user(),
                "--spring.r2dbc.password=" + db.password(),
                "--spring.data.redis.url=" + LocalServices.redisUri(),
                "--spring.kafka.bootstrap-servers=" + kafkaBootstrap,
                "--server.port=0",
                "--retrainer.sweep-interval=1s",
                "--retrainer.outbox-interval=300ms",
                "--retrainer.max-mae-ratio=1000");
    }

    /**
     * A fit that signals it has started and then waits to be released. An extra source of the application, not a
     * {@code @Configuration}: component scanning (other tests' contexts) never picks it up.
     */
    static class BlockingFitter {

        static volatile CountDownLatch entered = new CountDownLatch(1);
        static volatile CountDownLatch release = new CountDownLatch(0);
        static volatile CountDownLatch exited = new CountDownLatch(1);

        @Bean
        @Primary
        ModelFitter blockingModelFitter(RetrainProperties properties) {
            return new ModelFitter(properties) {
                @Override
                public Candidate fit(Current current, List<Sample> fresh, List<Sample> recentUsed) {
                    entered.countDown();
                    try {
                        release.await(60, TimeUnit.SECONDS);
                        return super.fit(current, fresh, recentUsed);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("fit interrupted", e);
                    } finally {
                        exited.countDown();
                    }
                }
            };
        }
    }

    private static void cacheStaleModel(String user) {
        redisProbe.sync().hset(RedisModelCache.key(user), Map.of("version", "0", "format", "stale", "bytes", "x"));
    }

    private static boolean cached(String user) {
        return redisProbe.sync().exists(RedisModelCache.key(user)) == 1;
    }

    /** The user's actuals were all consumed by its one version, which is announced (published) and only once. */
    private static long assertRetrainedOnceAndAnnounced(String user) {
        List<Long> versions = versions(db, user);
        assertThat(versions).as(user + "'s versions").hasSize(1);
        long v = versions.get(0);
        assertThat(usage(db, user).values()).as(user + "'s actuals").hasSize(50).containsOnly(v);
        assertThat(outbox(db, user)).as(user + "'s outbox").singleElement().satisfies(row -> {
            assertThat(row.message()).isEqualTo(ModelRetrainedMessage.success(user, v));
            assertThat(row.published()).isTrue();
        });
        return v;
    }

    @Test
    void closingTheAppDuringAFitChangesNothingAndTheNextStartRetrains() throws Exception {
        String user = newUser("shutdown-fit");
        actuals(db, user, 50);
        BlockingFitter.entered = new CountDownLatch(1);
        BlockingFitter.release = new CountDownLatch(1);
        BlockingFitter.exited = new CountDownLatch(1);
        ConfigurableApplicationContext app = start(LocalServices.kafkaBootstrap(), BlockingFitter.class);
        try {
            assertThat(BlockingFitter.entered.await(30, TimeUnit.SECONDS)).as("a fit started").isTrue();
        } finally {
            app.close(); // while the fit runs
            BlockingFitter.release.countDown(); // the fit may now finish: its result must go nowhere
        }
        // Once the fit has returned (or was interrupted), nothing can write any more: the context, its pool and
        // its subscriptions are gone. So the state now is the final state.
        assertThat(BlockingFitter.exited.await(30, TimeUnit.SECONDS)).as("the fit returned").isTrue();
        assertThat(versions(db, user)).isEmpty();
        assertThat(newActuals(db, user)).isEqualTo(50);
        assertThat(outbox(db, user)).as("neither stored nor failed").isEmpty();
        assertThat(db.count("SELECT count(*) FROM retrain_state WHERE user_id = '" + user + "'")).isZero();

        try (TopicReader topic = new TopicReader(user)) {
            ConfigurableApplicationContext restarted = start(LocalServices.kafkaBootstrap());
            try {
                await("a retrain after the restart", Duration.ofSeconds(30), () -> !outbox(db, user).isEmpty()
                        && outbox(db, user).get(0).published());
                long v = assertRetrainedOnceAndAnnounced(user);
                assertThat(topic.await(1, Duration.ofSeconds(30))).containsExactly(ModelRetrainedMessage.success(user, v));
            } finally {
                restarted.close();
            }
        }
    }

    @Test
    void closingTheAppAfterTheStoreButBeforeTheAnnouncementLeavesItToTheNextStart() throws IOException {
        String user = newUser("shutdown-notify");
        actuals(db, user, 50);
        cacheStaleModel(user);
        int deadPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            deadPort = socket.getLocalPort();
        }
        // Kafka unreachable: the version is stored, the announcement cannot go out before the app closes.
        ConfigurableApplicationContext app = start("127.0.0.1:" + deadPort);
        try {
            await("the version stored", Duration.ofSeconds(30), () -> versions(db, user).size() == 1);
            MeterRegistry meters = app.getBean(MeterRegistry.class);
            await("a failed attempt to notify", Duration.ofSeconds(30), () -> {
                Counter c = meters.find("retrainer.outbox.failures").tag("stage", "notify").counter();
                return c != null && c.count() >= 1;
            });
        } finally {
            app.close();
        }
        long v = versions(db, user).get(0);
        assertThat(usage(db, user).values()).hasSize(50).containsOnly(v);
        assertThat(outbox(db, user)).singleElement().satisfies(row -> assertThat(row.published()).isFalse());

        try (TopicReader topic = new TopicReader(user)) {
            cacheStaleModel(user); // evicted again by the next start before it notifies
            ConfigurableApplicationContext restarted = start(LocalServices.kafkaBootstrap());
            try {
                await("the announcement after the restart", Duration.ofSeconds(30),
                        () -> outbox(db, user).get(0).published());
                assertThat(assertRetrainedOnceAndAnnounced(user)).isEqualTo(v);
                assertThat(topic.await(1, Duration.ofSeconds(30))).containsExactly(ModelRetrainedMessage.success(user, v));
                assertThat(cached(user)).isFalse();
            } finally {
                restarted.close();
            }
        }
    }

    /**
     * Closes the app at random moments of several users' retrains, then starts it once more: whatever moment
     * each close hit, every user ends with exactly one version, all its actuals used by it, announced once.
     */
    @Test
    void closingTheAppAtAnyMomentLeavesEveryUserConsistent() {
        Random random = new Random(42);
        List<String> users = new ArrayList<>();
        for (int round = 0; round < 4; round++) {
            String user = newUser("shutdown-any");
            users.add(user);
            actuals(db, user, 50);
            ConfigurableApplicationContext app = start(LocalServices.kafkaBootstrap());
            try {
                // The start-up sweep has just found the user: a retrain takes a few hundred milliseconds.
                Thread.sleep(random.nextInt(600));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                app.close();
            }
            for (String u : users) {
                // Between starts: each user is either untouched or fully stored (perhaps not yet announced).
                List<Long> versions = versions(db, u);
                System.out.printf("after close %d: %s %s%n", round, u, versions.isEmpty() ? "untouched"
                        : outbox(db, u).stream().allMatch(OutboxRow::published) ? "stored and announced"
                        : "stored, not yet announced");
                if (versions.isEmpty()) {
                    assertThat(newActuals(db, u)).isEqualTo(50);
                    assertThat(outbox(db, u)).extracting(OutboxRow::message).extracting(ModelRetrainedMessage::status)
                            .doesNotContain(ModelRetrainedMessage.SUCCESS);
                } else {
                    assertThat(versions).hasSize(1);
                    assertThat(usage(db, u).values()).containsOnly(versions.get(0));
                    assertThat(outbox(db, u)).extracting(OutboxRow::message)
                            .contains(ModelRetrainedMessage.success(u, versions.get(0)));
                }
            }
        }
        ConfigurableApplicationContext last = start(LocalServices.kafkaBootstrap());
        try {
            await("every user retrained and announced", Duration.ofSeconds(60), () -> users.stream().allMatch(u ->
                    outbox(db, u).stream().anyMatch(r -> r.published() && r.message().changesModel())
                            && outbox(db, u).stream().allMatch(OutboxRow::published)));
        } finally {
            last.close();
        }
        users.forEach(RetrainShutdownTest::assertRetrainedOnceAndAnnounced);
    }
}

package io.mlgateway.shared.modelstore;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.mlgateway.shared.testing.LocalServices;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/** On the real Redis. */
class RedisModelCacheTest {

    private static RedisClient client;
    private static StatefulRedisConnection<byte[], byte[]> connection;
    private static RedisModelCache cache;

    @BeforeAll
    static void connect() {
        client = RedisClient.create(LocalServices.redisUri());
        connection = client.connect(ByteArrayCodec.INSTANCE);
        cache = new RedisModelCache(connection.reactive(), Duration.ofMinutes(10));
    }

    @AfterAll
    static void close() {
        connection.close();
        client.shutdown();
    }

    @Test
    void keyIsExactlyModelColonUserId() {
        assertThat(RedisModelCache.key("alice")).isEqualTo("model:alice");
    }

    @Test
    void putGetEvictWithTtl() {
        String user = "u-" + UUID.randomUUID();
        byte[] model = {0, 1, 2, (byte) 255};
        StepVerifier.create(cache.get(user)).verifyComplete();
        StepVerifier.create(cache.put(user, 42, ModelFormat.TREES, model)).verifyComplete();

        StepVerifier.create(cache.get(user))
                .assertNext(cached -> {
                    assertThat(cached.version()).isEqualTo(42);
                    assertThat(cached.format()).isEqualTo(ModelFormat.TREES);
                    assertThat(cached.bytes()).containsExactly(model);
                })
                .verifyComplete();
        byte[] key = ("model:" + user).getBytes(StandardCharsets.UTF_8);
        long ttlMillis = connection.sync().pttl(key);
        assertThat(ttlMillis).isBetween(1L, Duration.ofMinutes(10).toMillis());
        assertThat(new String(connection.sync().hget(key, "version".getBytes()), StandardCharsets.UTF_8)).isEqualTo("42");

        StepVerifier.create(cache.evict(user)).expectNext(1L).verifyComplete();
        StepVerifier.create(cache.get(user)).verifyComplete();
        StepVerifier.create(cache.evict(user)).expectNext(0L).verifyComplete();
    }
}

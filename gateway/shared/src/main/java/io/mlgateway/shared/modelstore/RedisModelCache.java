package io.mlgateway.shared.modelstore;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.reactive.RedisReactiveCommands;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * A user's current model cached in Redis under exactly {@code model:{user_id}}: a hash of {@code version},
 * {@code format} and {@code bytes}, with a TTL. The key format is defined here and nowhere else.
 */
public class RedisModelCache {

    private static final String KEY_PREFIX = "model:";
    /** HSET and PEXPIRE in one atomic step, so a cached model never lives without its TTL. */
    private static final String PUT_SCRIPT = "redis.call('HSET', KEYS[1], 'version', ARGV[1], 'format', ARGV[2],"
            + " 'bytes', ARGV[3]) return redis.call('PEXPIRE', KEYS[1], ARGV[4])";

    private final Mono<RedisReactiveCommands<byte[], byte[]>> redis;
    private final Duration ttl;

    public RedisModelCache(RedisReactiveCommands<byte[], byte[]> redis, Duration ttl) {
        this(Mono.just(redis), ttl);
    }

    /** @param redis a connection obtained on subscription, so callers can connect lazily and reconnect */
    public RedisModelCache(Mono<RedisReactiveCommands<byte[], byte[]>> redis, Duration ttl) {
        this.redis = redis;
        this.ttl = ttl;
    }

    public static String key(String userId) {
        return KEY_PREFIX + userId;
    }

    /** The cached model, or empty on a miss (or an incomplete entry). */
    public Mono<CachedModel> get(String userId) {
        return redis.flatMapMany(r -> r.hgetall(bytes(key(userId))))
                .collectMap(kv -> new String(kv.getKey(), StandardCharsets.UTF_8), kv -> kv.getValue())
                .flatMap(fields -> {
                    byte[] version = fields.get("version");
                    byte[] format = fields.get("format");
                    byte[] model = fields.get("bytes");
                    if (version == null || format == null || model == null) {
                        return Mono.empty();
                    }
                    return Mono.just(new CachedModel(Long.parseLong(new String(version, StandardCharsets.UTF_8)),
                            new String(format, StandardCharsets.UTF_8), model));
                });
    }

    public Mono<Void> put(String userId, long version, String format, byte[] model) {
        byte[][] keys = {bytes(key(userId))};
        return redis.flatMapMany(r -> r.<Long>eval(PUT_SCRIPT, ScriptOutputType.INTEGER, keys,
                        bytes(Long.toString(version)), bytes(format), model, bytes(Long.toString(ttl.toMillis()))))
                .then();
    }

    /** Deletes the user's entry; emits how many keys were removed (0 or 1). */
    public Mono<Long> evict(String userId) {
        return redis.flatMap(r -> r.del(bytes(key(userId))));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A model as found in Redis. */
    public record CachedModel(long version, String format, byte[] bytes) {
    }

}

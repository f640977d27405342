package io.mlgateway.modelstore;

import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.ScoredValue;
import io.lettuce.core.api.reactive.RedisReactiveCommands;
import io.mlgateway.shared.lifecycle.SubscriptionLifecycle;
import io.mlgateway.shared.storage.LazyRedisConnection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The users served recently, kept in Redis so that a starting instance can load their models before it reports
 * ready: a sorted set of user ids scored by when they were last served (epoch milliseconds). Every instance
 * publishes the users it served every {@code warm-up.publish-interval}; entries older than {@code warm-up.window} are
 * dropped, and the set keeps at most {@code warm-up.users} of the newest. Losing it (Redis down, flushed) only costs
 * the warm-up: models are then loaded on first use.
 *
 * <p>Behind a balancer that routes by user, an instance named by {@code warm-up.instance} keeps a set of its own,
 * {@value #KEY}{@code :{instance}}: the balancer sends a restarted instance the users it had, which are the ones it
 * warms. Without a name, the fleet shares {@value #KEY}: round robin sends any instance any user.
 */
@Component
public class RecentUsers extends SubscriptionLifecycle {

    /**
     * The Redis key, or its prefix before {@code :{instance}}; this gateway's only Redis contract besides
     * {@code model:{user_id}} (RedisModelCache).
     */
    public static final String KEY = "gateway:recent-users";
    private static final Logger log = LoggerFactory.getLogger(RecentUsers.class);
    private static final int CHUNK = 1000;

    private final MemoryTier memory;
    private final Mono<RedisReactiveCommands<byte[], byte[]>> redis;
    private final ModelCacheProperties.WarmUp settings;
    private final Duration timeout;
    private final byte[] key;

    public RecentUsers(MemoryTier memory, LazyRedisConnection connection, ModelCacheProperties properties,
            io.mlgateway.shared.storage.RedisConnectionProperties redisProperties) {
        this.memory = memory;
        this.redis = Mono.defer(connection::commands);
        this.settings = properties.warmUp();
        this.timeout = redisProperties.timeout().multipliedBy(4);
        this.key = key(settings.instance()).getBytes(StandardCharsets.UTF_8);
    }

    /** The set an instance named {@code instance} (or, empty, the whole fleet) keeps its recent users in. */
    public static String key(String instance) {
        return instance.isEmpty() ? KEY : KEY + ":" + instance;
    }

    /** The users served within the window, most recent first, at most {@code warm-up.users}. */
    public Mono<List<String>> read() {
        if (settings.users() == 0) {
            return Mono.just(List.of());
        }
        long since = System.currentTimeMillis() - settings.window().toMillis();
        return redis.flatMapMany(r -> r.zrevrangebyscore(key, Range.create((double) since, Double.POSITIVE_INFINITY),
                        Limit.create(0, settings.users())))
                .map(user -> new String(user, StandardCharsets.UTF_8))
                .collectList()
                .timeout(timeout.multipliedBy(10));
    }

    /** Publishes the users this instance served within the window; emits how many. */
    public Mono<Integer> publish() {
        List<MemoryTier.RecentUser> recent = memory.recentUsers(settings.users(), settings.window());
        if (recent.isEmpty()) {
            return Mono.just(0);
        }
        long oldest = System.currentTimeMillis() - settings.window().toMillis();
        return redis.flatMap(r -> Flux.fromIterable(recent).buffer(CHUNK)
                .concatMap(chunk -> r.zadd(key, chunk.stream().map(u -> ScoredValue.just((double) u.lastServedMillis(),
                        u.userId().getBytes(StandardCharsets.UTF_8))).toArray(ScoredValue[]::new)).timeout(timeout))
                .then(r.zremrangebyscore(key, Range.create(Double.NEGATIVE_INFINITY, (double) oldest)))
                // Keep the newest warm-up.users entries: ranks run from the lowest score.
                .then(r.zremrangebyrank(key, 0, -(long) settings.users() - 1))
                .timeout(timeout))
                .thenReturn(recent.size());
    }

    /** A last publish on the way out: the replacement of an instance in a rolling restart warms what it served last. */
    @Override
    public void stop() {
        super.stop();
        try {
            publish().block(timeout.multipliedBy(2));
        } catch (RuntimeException e) {
            log.debug("publishing recent users at shutdown failed: {}", e.toString());
        }
    }

    @Override
    protected Disposable subscribe() {
        if (settings.users() == 0) {
            return Flux.never().subscribe();
        }
        return Flux.interval(settings.publishInterval(), settings.publishInterval())
                .onBackpressureDrop()
                .concatMap(tick -> publish().onErrorResume(e -> {
                    log.debug("publishing recent users failed: {}", e.toString());
                    return Mono.empty();
                }))
                .subscribe();
    }
}

package io.mlgateway.modelstore;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Gauge;
import io.mlgateway.core.modelstore.ModelFormat;
import io.mlgateway.core.modelstore.ModelRecord;
import io.mlgateway.core.modelstore.ModelRegistry;
import io.mlgateway.core.modelstore.RedisModelCache;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Finds the booster to serve a user: in-process → Redis ({@code model:{user_id}}) → PostgreSQL → the base model
 * for users without one of their own. Concurrent misses for one user share a single load (the in-process cache
 * stores the pending load, not just its result). A swap loads the new model in the background ({@link #swap}).
 * Resolved models come back held: the caller must {@link LoadedModel#release()} them after scoring.
 */
@Component
public class ModelResolver implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(ModelResolver.class);
    private static final int MAX_ATTEMPTS = 3;

    private final ModelRegistry registry;
    private final RedisModelCache redis;
    private final ModelStoreMetrics metrics;
    private final Duration redisTimeout;
    private final AsyncCache<String, LoadedModel> memory;
    /** Versions announced on Kafka or found in the registry: an older copy in Redis is stale and skipped. */
    private final Cache<String, Long> minimumVersions;
    /** Deserializing a booster takes milliseconds of CPU: never on an event loop. */
    private final Scheduler loading = Schedulers.newBoundedElastic(
            Math.max(2, Runtime.getRuntime().availableProcessors()), 10_000, "model-load", 60, true);
    /**
     * Swaps load on one thread of their own: no request waits for them, and a burst of retrains (20 users swapped
     * within a second in the Gatling feedback loop) then takes at most one core from scoring, not all of them.
     */
    private final Scheduler swapLoading = Schedulers.newSingle("model-swap", true);

    public ModelResolver(ModelRegistry registry, RedisModelCache redis, ModelStoreMetrics metrics,
            ModelCacheProperties properties, io.mlgateway.core.storage.RedisProperties redisProperties) {
        this.registry = registry;
        this.redis = redis;
        this.metrics = metrics;
        this.redisTimeout = redisProperties.timeout();
        long floor = Math.max(1, properties.maxBytes().toBytes() / properties.maxEntries());
        // Weight = bytes, but at least maxBytes / maxEntries: bounds the byte total and the entry count at once.
        // Users served the base model share its booster, so their entries weigh only the floor.
        this.memory = Caffeine.newBuilder()
                .maximumWeight(properties.maxBytes().toBytes())
                .<String, LoadedModel>weigher((user, model) -> (int) Math.min(Integer.MAX_VALUE,
                        owns(user, model) ? Math.max(floor, model.sizeBytes()) : floor))
                .<String, LoadedModel>removalListener((user, model, cause) -> {
                    if (model != null && owns(user, model)) {
                        model.retire();
                    }
                })
                .buildAsync();
        this.minimumVersions = Caffeine.newBuilder().expireAfterWrite(properties.redisTtl()).maximumSize(100_000).build();
        Gauge.builder("gateway.modelstore.cache.entries", memory, c -> c.synchronous().estimatedSize())
                .description("users with a booster in this instance's memory").register(metrics.registry());
    }

    private static boolean owns(String user, LoadedModel model) {
        return !model.isBase() || ModelRegistry.BASE_USER.equals(user);
    }

    /** The user's current model, held for the caller. */
    public Mono<LoadedModel> resolve(String userId) {
        return resolve(userId, 1);
    }

    private Mono<LoadedModel> resolve(String userId, int attempt) {
        return Mono.defer(() -> {
            CompletableFuture<LoadedModel> cached = memory.getIfPresent(userId);
            metrics.lookup("memory", cached != null ? "hit" : "miss");
            CompletableFuture<LoadedModel> future = cached != null ? cached
                    : memory.get(userId, (user, executor) -> load(user, loading).toFuture());
            return Mono.fromFuture(future, true).flatMap(model -> {
                if (model.tryAcquire()) {
                    return Mono.just(model);
                }
                // Retired between lookup and use (swapped or evicted): drop the stale entry and look again.
                memory.asMap().remove(userId, future);
                if (attempt >= MAX_ATTEMPTS) {
                    return Mono.error(new IllegalStateException("model for '" + userId + "' kept changing"));
                }
                return resolve(userId, attempt + 1);
            });
        });
    }

    /** @param on where deserialization runs (milliseconds of CPU per model) */
    private Mono<LoadedModel> load(String userId, Scheduler on) {
        if (ModelRegistry.BASE_USER.equals(userId)) {
            return fromPostgres(userId, on).switchIfEmpty(Mono.error(() ->
                    new ModelStoreUnavailableException("the base model is not bootstrapped yet")));
        }
        return fromRedis(userId, on)
                .switchIfEmpty(Mono.defer(() -> fromPostgres(userId, on)))
                .switchIfEmpty(Mono.defer(this::base));
    }

    private Mono<LoadedModel> fromRedis(String userId, Scheduler on) {
        Long minimum = minimumVersions.getIfPresent(userId);
        return redis.get(userId)
                .timeout(redisTimeout)
                .filter(cached -> minimum == null || cached.version() >= minimum)
                .publishOn(on)
                .map(cached -> {
                    LoadedModel model = new LoadedModel(ModelFormat.deserialize(cached.format(), cached.bytes()),
                            cached.version(), false, cached.bytes().length);
                    metrics.loaded("redis");
                    return model;
                })
                .doOnNext(m -> metrics.lookup("redis", "hit"))
                .switchIfEmpty(Mono.fromRunnable(() -> metrics.lookup("redis", "miss")))
                .onErrorResume(e -> {
                    // Redis is a cache: when it is down or slow, fall through to the source of truth.
                    metrics.lookup("redis", "error");
                    log.debug("redis lookup for {} failed: {}", userId, e.toString());
                    return Mono.empty();
                });
    }

    private Mono<LoadedModel> fromPostgres(String userId, Scheduler on) {
        return registry.current(userId)
                .onErrorMap(e -> new ModelStoreUnavailableException("model registry unreachable: " + e.getMessage()))
                .doOnError(e -> metrics.lookup("postgres", "error"))
                .switchIfEmpty(Mono.fromRunnable(() -> metrics.lookup("postgres", "miss")))
                .publishOn(on)
                .map(record -> {
                    metrics.lookup("postgres", "hit");
                    metrics.loaded("postgres");
                    if (!record.isBase()) {
                        cacheInRedis(record);
                    }
                    return toModel(record);
                });
    }

    private LoadedModel toModel(ModelRecord record) {
        return new LoadedModel(ModelFormat.deserialize(record.format(), record.bytes()), record.version(),
                record.isBase(), record.bytes().length);
    }

    /** Writes the user's model to Redis off the request path; a failure only costs a later PostgreSQL read. */
    private void cacheInRedis(ModelRecord record) {
        redis.put(record.userId(), record.version(), record.format(), record.bytes())
                .timeout(Duration.ofSeconds(5))
                .subscribe(ok -> { }, e -> log.debug("caching {} in redis failed: {}", record.userId(), e.toString()));
    }

    /** The base model, shared by every user without a model of their own. */
    private Mono<LoadedModel> base() {
        metrics.lookup("base", "hit");
        CompletableFuture<LoadedModel> future = memory.get(ModelRegistry.BASE_USER,
                (user, executor) -> load(user, loading).toFuture());
        return Mono.fromFuture(future, true);
    }

    /**
     * A newer model exists for the user ({@code version}, if known). A user this instance is serving keeps being
     * served its current model while the new one loads in the background; the new one then replaces it, and the old
     * booster is freed once in-flight requests release it. No request waits for the load: under load, loading on
     * the request path held a user's requests for the whole read and deserialization (up to ~340 ms measured in
     * the Gatling feedback loop, docs/BENCHMARKS.md). A user not in memory needs nothing: its next request loads
     * the newest version. If the background load fails, the entry is dropped and the next request loads.
     */
    public void swap(String userId, Long version, String trigger) {
        if (version != null) {
            minimumVersions.asMap().merge(userId, version, Math::max);
        }
        if (ModelRegistry.BASE_USER.equals(userId)) {
            metrics.swapped(trigger);
            memory.synchronous().invalidate(userId);
            // Users served the base model hold it under their own key too.
            memory.synchronous().asMap().entrySet().removeIf(e -> e.getValue().isBase());
            return;
        }
        CompletableFuture<LoadedModel> current = memory.getIfPresent(userId);
        if (current == null) {
            return;
        }
        metrics.swapped(trigger);
        if (!current.isDone() || current.isCompletedExceptionally()) {
            // A load is under way and may have read the old version: let the next request load afresh.
            memory.asMap().remove(userId, current);
            return;
        }
        load(userId, swapLoading).subscribe(
                loaded -> install(userId, loaded, version),
                error -> {
                    log.debug("background load of {}'s new model failed: {}", userId, error.toString());
                    memory.asMap().remove(userId, current);
                });
    }

    /**
     * Puts a freshly loaded model in place of the user's entry unless that entry is already as new (a later swap
     * or a request got there first) or is still loading (it reads the newest version itself), or the user left
     * the cache meanwhile. A model not installed is retired at once.
     */
    private void install(String userId, LoadedModel loaded, Long announced) {
        if (announced != null && loaded.version() < announced) {
            // The announced version is not readable yet: serving the old one until the next request is no worse.
            retireIfOwned(userId, loaded);
            memory.asMap().computeIfPresent(userId, (user, entry) -> entry.isDone() ? null : entry);
            return;
        }
        boolean[] installed = new boolean[1];
        memory.asMap().computeIfPresent(userId, (user, entry) -> {
            LoadedModel serving = entry.isDone() && !entry.isCompletedExceptionally() ? entry.join() : null;
            if (serving == null || serving.version() >= loaded.version()) {
                return entry;
            }
            installed[0] = true;
            return CompletableFuture.completedFuture(loaded);
        });
        if (!installed[0]) {
            retireIfOwned(userId, loaded);
        }
    }

    private static void retireIfOwned(String userId, LoadedModel model) {
        if (owns(userId, model)) {
            model.retire();
        }
    }

    /** Versions of the models now in memory, by user (for the periodic staleness check). */
    public Map<String, LoadedModel> cachedModels() {
        return Map.copyOf(memory.synchronous().asMap());
    }

    @Override
    public void destroy() {
        memory.synchronous().invalidateAll();
        loading.dispose();
        swapLoading.dispose();
    }
}

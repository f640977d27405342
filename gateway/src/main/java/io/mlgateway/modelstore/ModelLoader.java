package io.mlgateway.modelstore;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.mlgateway.shared.modelstore.ModelFormat;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.modelstore.RedisModelCache;
import io.mlgateway.shared.trees.TreeModel;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Reads a user's model from the slower tiers and makes it ready to score: Redis ({@code model:{user_id}}) →
 * PostgreSQL → the shared base model for users without one of their own. A user's model is layered on a base
 * version ({@link TreeModel}): the base is loaded once per version and every user's model references it, so a user
 * costs only its own trees. Registry reads of concurrent misses are gathered into few queries with a bounded number in
 * flight ({@link BatchedReads}); models decode off the event loops.
 */
@Component
public class ModelLoader implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(ModelLoader.class);
    private final ModelRegistry registry;
    private final RedisModelCache redis;
    private final ModelStoreMetrics metrics;
    private final Duration redisTimeout;
    private final BatchedReads<ModelRecord> currentModels;
    /** Base models by version, each loaded once; a handful at most (a new base comes with a base retrain). */
    private final ConcurrentHashMap<Long, ServedModel> bases = new ConcurrentHashMap<>();
    /** The same bases in their stored form, which explanations walk: shared by every user, so held (~400 KB each). */
    private final ConcurrentHashMap<Long, TreeModel> baseTrees = new ConcurrentHashMap<>();
    /** Base loads under way: concurrent first uses of a base share one load. */
    private final ConcurrentHashMap<Long, Mono<ServedModel>> baseLoads = new ConcurrentHashMap<>();
    /** The base model served to users without their own; null until the rentals store is ready. */
    private volatile ServedModel currentBase;
    /** Versions announced on Kafka or found in the registry: an older copy in Redis is stale and skipped. */
    private final Cache<String, Long> minimumVersions;
    /** Writes of models to Redis in flight at most (each holds a model's stored bytes). */
    private static final int MAX_REDIS_WRITES = 64;
    private final AtomicInteger redisWrites = new AtomicInteger();
    /**
     * Largest model decoded on the thread that read it. A policy-sized user's 50 own trees take ~50 KB stored and
     * ~0.1 ms to decode and compile: on the database driver's event loop (two threads, shared by every query) a cold
     * burst's decodes would queue behind each other and behind every other query, so such models decode on the
     * decoding pool. A few small trees (a few KB, microseconds) are not worth the hop.
     */
    private static final int INLINE_DECODE_BYTES = 8 * 1024;
    /** Where large and legacy models decode: off the Netty and driver threads. */
    private final Scheduler decoding = Schedulers.newBoundedElastic(
            Math.max(2, Runtime.getRuntime().availableProcessors()), 100_000, "model-load", 60, true);

    public ModelLoader(ModelRegistry registry, RedisModelCache redis, ModelStoreMetrics metrics,
            ModelCacheProperties properties, io.mlgateway.shared.storage.RedisConnectionProperties redisProperties) {
        this.registry = registry;
        this.redis = redis;
        this.metrics = metrics;
        this.redisTimeout = redisProperties.timeout();
        this.currentModels = new BatchedReads<>(users -> registry.current(users).collectMap(ModelRecord::userId),
                properties.maxConcurrentReads(), properties.readBatchSize());
        // Every announced retrain raises its user's minimum, held or not: bounded, ~120 bytes an entry (12 MB full).
        this.minimumVersions = Caffeine.newBuilder().expireAfterWrite(properties.redisTtl()).maximumSize(100_000)
                .build();
    }

    /** The base model, loading the registry's current one first if none is loaded. */
    public Mono<ServedModel> base() {
        ServedModel base = currentBase;
        return base != null ? Mono.just(base) : refreshBase();
    }

    /** The base model if loaded: null until the rentals store is ready. */
    public ServedModel loadedBase() {
        return currentBase;
    }

    /** Reads the registry's current base model and serves it from now on (start-up, and when the base changes). */
    public Mono<ServedModel> refreshBase() {
        return registry.current(ModelRegistry.BASE_USER)
                .onErrorMap(e -> new ModelStoreUnavailableException("model registry unreachable: " + e.getMessage()))
                .switchIfEmpty(Mono.error(() -> new ModelStoreUnavailableException("the base model is not bootstrapped yet")))
                .flatMap(record -> baseOf(record.version(), Mono.just(record)))
                .doOnNext(base -> currentBase = base);
    }

    /** The user's model from Redis or PostgreSQL, or the base model if the user has none of its own. */
    public Mono<ServedModel> load(String userId) {
        return Mono.defer(() -> fromRedis(userId))
                .switchIfEmpty(Mono.defer(() -> fromPostgres(userId)))
                .switchIfEmpty(Mono.defer(this::base));
    }

    /**
     * The models of many users (warming a starting instance) straight from the registry, in queries of up to
     * {@code read-batch-size} users: each user's own model, or the base. Users whose model cannot be read are left
     * out.
     */
    public Flux<Map.Entry<String, ServedModel>> loadAll(Collection<String> userIds) {
        return Flux.fromIterable(userIds).flatMap(user -> currentModels.read(user)
                .flatMap(record -> fromRecord(record, "postgres"))
                .switchIfEmpty(Mono.defer(this::base))
                .map(model -> Map.entry(user, model))
                .onErrorResume(e -> {
                    log.debug("warming {} failed: {}", user, e.toString());
                    return Mono.empty();
                }), Integer.MAX_VALUE);
    }

    /** A newer version of the user's model exists: an older copy in Redis must not be served any more. */
    public void raiseMinimum(String userId, long version) {
        minimumVersions.asMap().merge(userId, version, Math::max);
    }

    private Mono<ServedModel> fromRedis(String userId) {
        Long minimum = minimumVersions.getIfPresent(userId);
        long started = System.nanoTime();
        return redis.get(userId)
                .timeout(redisTimeout)
                .filter(cached -> minimum == null || cached.version() >= minimum)
                .doOnNext(cached -> metrics.lookup("redis", "hit"))
                .switchIfEmpty(Mono.fromRunnable(() -> metrics.lookup("redis", "miss")))
                .onErrorResume(e -> {
                    // Redis is a cache: when it is down or slow, fall through to the source of truth.
                    metrics.lookup("redis", "error");
                    log.debug("redis lookup for {} failed: {}", userId, e.toString());
                    return Mono.empty();
                })
                .flatMap(cached -> decodeOffDriver(cached.format(), cached.bytes(), cached.version(), false)
                        .onErrorResume(e -> {
                            // A corrupt or foreign entry: read the registry instead (and overwrite the entry).
                            log.warn("ignoring unreadable redis entry for {}: {}", userId, e.toString());
                            return Mono.empty();
                        }))
                .doOnNext(model -> metrics.loaded("redis", System.nanoTime() - started));
    }

    private Mono<ServedModel> fromPostgres(String userId) {
        long started = System.nanoTime();
        return currentModels.read(userId)
                .onErrorMap(e -> new ModelStoreUnavailableException("model registry unreachable: " + e.getMessage()))
                .doOnError(e -> metrics.lookup("postgres", "error"))
                .switchIfEmpty(Mono.fromRunnable(() -> {
                    metrics.lookup("postgres", "miss");
                    metrics.lookup("base", "hit");
                }))
                .doOnNext(record -> metrics.lookup("postgres", "hit"))
                .flatMap(record -> fromRecord(record, "postgres")
                        .doOnNext(model -> {
                            metrics.loaded("postgres", System.nanoTime() - started);
                            cacheInRedis(record);
                        }));
    }

    private Mono<ServedModel> fromRecord(ModelRecord record, String source) {
        return decodeOffDriver(record.format(), record.bytes(), record.version(), record.isBase())
                .onErrorMap(IllegalArgumentException.class, e -> {
                    // Not the client's fault and nothing it can fix: logged loudly, answered as unavailable.
                    log.error("model version {} in {} is unreadable: {}", record.version(), source, e.getMessage());
                    return new ModelStoreUnavailableException("model version " + record.version() + " is unreadable");
                });
    }

    /**
     * {@link #decode}, on the decoding scheduler when it takes long: a legacy XGBoost model (a native load) or a large
     * one (a base model, 350 KB). A user's own trees (a few KB, about a microsecond) decode on the thread that read
     * them: hopping to another thread would cost more than the work.
     */
    private Mono<ServedModel> decodeOffDriver(String format, byte[] bytes, long version, boolean isBase) {
        if (ModelFormat.TREES.equals(format) && bytes.length <= INLINE_DECODE_BYTES) {
            return decode(format, bytes, version, isBase);
        }
        return Mono.defer(() -> decode(format, bytes, version, isBase)).subscribeOn(decoding);
    }

    /** Decodes (on the calling thread) and binds a layered model to its base, loading the base if needed. */
    private Mono<ServedModel> decode(String format, byte[] bytes, long version, boolean isBase) {
        TreeModel model;
        try {
            model = ModelFormat.decode(format, bytes);
        } catch (IllegalArgumentException e) {
            return Mono.error(e);
        }
        if (!model.isLayered()) {
            return Mono.just(new ServedModel(version, isBase, model.bind(null)));
        }
        return baseOf(model.baseVersion(), registry.version(model.baseVersion()))
                .map(base -> new ServedModel(version, isBase, model.bind(base.scoring())));
    }

    /** The base model of {@code version}, loaded once (concurrent first uses share the load). */
    private Mono<ServedModel> baseOf(long version, Mono<ModelRecord> record) {
        ServedModel loaded = bases.get(version);
        if (loaded != null) {
            return Mono.just(loaded);
        }
        return baseLoads.computeIfAbsent(version, v -> record
                .switchIfEmpty(Mono.error(() -> new ModelStoreUnavailableException("base model version " + v
                        + " is missing from the registry")))
                .publishOn(decoding)
                .flatMap(r -> {
                    TreeModel model = ModelFormat.decode(r.format(), r.bytes());
                    if (model.isLayered()) {
                        return Mono.error(new IllegalArgumentException("base model version " + v + " is layered"));
                    }
                    baseTrees.put(v, model);
                    return Mono.just(new ServedModel(r.version(), true, model.bind(null)));
                })
                .doOnNext(base -> {
                    bases.put(v, base);
                    log.info("base model version {} loaded: {} trees, {} bytes", v, base.scoring().trees(),
                            base.ownFootprintBytes());
                })
                .doFinally(signal -> baseLoads.remove(v))
                .cache());
    }

    /** Writes the user's model to Redis off the request path; a failure only costs a later PostgreSQL read. */
    private void cacheInRedis(ModelRecord record) {
        if (record.isBase()) {
            return;
        }
        // Each write holds the model's bytes until Redis answers: a slow Redis under a cold sweep would otherwise
        // pile up thousands of them. A write skipped costs a later PostgreSQL read, nothing else.
        if (redisWrites.incrementAndGet() > MAX_REDIS_WRITES) {
            redisWrites.decrementAndGet();
            return;
        }
        redis.put(record.userId(), record.version(), record.format(), record.bytes())
                .timeout(Duration.ofSeconds(5))
                .doFinally(signal -> redisWrites.decrementAndGet())
                .subscribe(ok -> { }, e -> log.debug("caching {} in redis failed: {}", record.userId(), e.toString()));
    }

    /**
     * The served model {@code served} in its stored form, for an explanation: a user's version read from the registry
     * (by version: it may have been swapped meanwhile), a base from memory.
     */
    public Mono<Explainable> explainable(ServedModel served) {
        Mono<TreeModel> stored = served.base() && baseTrees.containsKey(served.version())
                ? Mono.just(baseTrees.get(served.version()))
                : registry.version(served.version())
                        .onErrorMap(e -> new ModelStoreUnavailableException("model registry unreachable: " + e.getMessage()))
                        .switchIfEmpty(Mono.error(() -> new ModelStoreUnavailableException("model version "
                                + served.version() + " is missing from the registry")))
                        .publishOn(decoding)
                        .map(record -> ModelFormat.decode(record.format(), record.bytes()));
        return stored.flatMap(model -> {
            if (!model.isLayered()) {
                return Mono.just(new Explainable(model, null));
            }
            TreeModel base = baseTrees.get(model.baseVersion());
            return base != null ? Mono.just(new Explainable(model, base))
                    : baseOf(model.baseVersion(), registry.version(model.baseVersion()))
                            .map(loaded -> new Explainable(model, baseTrees.get(model.baseVersion())));
        }).onErrorMap(IllegalArgumentException.class, e -> {
            log.error("model version {} is unreadable: {}", served.version(), e.getMessage());
            return new ModelStoreUnavailableException("model version " + served.version() + " is unreadable");
        });
    }

    /** Heap bytes of the loaded base models, in both forms (scoring, and stored for explanations). */
    long baseFootprintBytes() {
        return bases.values().stream().mapToLong(ServedModel::ownFootprintBytes).sum()
                + baseTrees.values().stream().mapToLong(m -> m.trees().footprintBytes()).sum();
    }

    /** Users waiting for a registry query to read them (a gauge). */
    int waitingReads() {
        return currentModels.waiting();
    }

    List<Long> loadedBaseVersions() {
        return bases.keySet().stream().sorted().toList();
    }

    @Override
    public void destroy() {
        decoding.dispose();
    }
}

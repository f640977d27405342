package io.mlgateway.modelstore;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.mlgateway.shared.modelstore.ModelRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * The memory tier: which model serves each user, in this instance's heap. A miss is loaded by {@link ModelLoader}
 * (Redis → PostgreSQL → base); concurrent misses for one user share that single load, because the cache holds the
 * pending load, not just its result. The tier is bounded by the models' real footprint
 * ({@code gateway.model-cache.max-bytes}): a user costs its own trees plus a small entry, the base model it builds on
 * is shared and not counted per user. A swap loads the new version in the background ({@link #swap}).
 */
@Component
public class ModelResolver {

    private static final Logger log = LoggerFactory.getLogger(ModelResolver.class);
    /**
     * Heap one user's entry costs beyond its model's own trees: the key string, Caffeine's node, the completed
     * future, the {@link ServedModel} and its {@code ScoringModel} (measured with a heap histogram: ~180 bytes).
     */
    public static final int ENTRY_BYTES = 200;

    private final ModelLoader loader;
    private final ModelStoreMetrics metrics;
    private final AsyncCache<String, ServedModel> memory;

    public ModelResolver(ModelLoader loader, ModelStoreMetrics metrics, ModelCacheProperties properties) {
        this.loader = loader;
        this.metrics = metrics;
        this.memory = Caffeine.newBuilder()
                // Maintenance (recording reads, evicting) runs on the thread that triggers it, amortized and without
                // blocking: handing it to the common pool cost a task and a thread wake-up every few reads.
                .executor(Runnable::run)
                .maximumWeight(properties.maxBytes().toBytes())
                .weigher((String user, ServedModel model) -> weight(model))
                .expireAfterAccess(properties.idleExpiry())
                .removalListener((String user, ServedModel model, RemovalCause cause) -> {
                    if (cause.wasEvicted()) {
                        metrics.evicted(cause == RemovalCause.SIZE ? "size" : "idle");
                    }
                })
                .buildAsync();
        metrics.memory(() -> memory.synchronous().estimatedSize(),
                () -> memory.synchronous().policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L),
                properties.maxBytes().toBytes(), loader::baseFootprintBytes, loader::waitingReads);
    }

    /** A user served the shared base weighs only its entry; a user with its own model, its own trees too. */
    private static int weight(ServedModel model) {
        long own = model.base() ? 0 : model.ownFootprintBytes();
        return (int) Math.min(Integer.MAX_VALUE, ENTRY_BYTES + own);
    }

    /** The user's model if it is in memory and loaded (the hot path: no allocation), else null. */
    public ServedModel cached(String userId) {
        CompletableFuture<ServedModel> entry = memory.getIfPresent(userId);
        if (entry != null && entry.isDone() && !entry.isCompletedExceptionally()) {
            metrics.memoryHit();
            return entry.join();
        }
        return null;
    }

    /**
     * The user's current model, loading it on subscription if this instance does not hold it (loads are shared per
     * user).
     */
    public Mono<ServedModel> resolve(String userId) {
        return Mono.defer(() -> {
            ServedModel hit = cached(userId);
            if (hit != null) {
                return Mono.just(hit);
            }
            metrics.lookup("memory", "miss");
            // A request that is cancelled does not cancel the load other requests may be waiting for.
            return Mono.fromFuture(memory.get(userId, (user, executor) -> loader.load(user).toFuture()), true);
        });
    }

    /**
     * Loads the models of {@code userIds} not yet in memory, in few registry queries; emits how many were loaded.
     * Used to warm a starting instance with the users its fleet served recently.
     */
    public Mono<Long> preload(Collection<String> userIds) {
        List<String> missing = userIds.stream().filter(u -> memory.getIfPresent(u) == null).toList();
        return loader.loadAll(missing)
                .filter(e -> memory.asMap().putIfAbsent(e.getKey(), CompletableFuture.completedFuture(e.getValue())) == null)
                .count();
    }

    /**
     * A newer model exists for the user ({@code version}, if known). A user this instance is serving keeps being
     * served its current model while the new one loads in the background; the new one then replaces it. No request
     * waits for the load. A user not in memory needs nothing: its next request loads the newest version. If the
     * background load fails, the entry is dropped and the next request loads.
     */
    public void swap(String userId, Long version, String trigger) {
        if (ModelRegistry.BASE_USER.equals(userId)) {
            metrics.swapped(trigger);
            loader.refreshBase().subscribe(this::serveBase,
                    e -> log.warn("loading the new base model failed: {}", e.toString()));
            return;
        }
        if (version != null) {
            loader.raiseMinimum(userId, version);
        }
        CompletableFuture<ServedModel> current = memory.getIfPresent(userId);
        if (current == null) {
            return;
        }
        metrics.swapped(trigger);
        if (!current.isDone() || current.isCompletedExceptionally()) {
            // A load is under way and may have read the old version: let the next request load afresh.
            memory.asMap().remove(userId, current);
            return;
        }
        loader.load(userId).subscribe(
                loaded -> install(userId, loaded, version),
                error -> {
                    log.debug("background load of {}'s new model failed: {}", userId, error.toString());
                    memory.asMap().remove(userId, current);
                });
    }

    /**
     * Puts a freshly loaded model in place of the user's entry unless that entry is already as new (a later swap or
     * a request got there first) or is still loading (it reads the newest version itself), or the user left memory
     * meanwhile.
     */
    private void install(String userId, ServedModel loaded, Long announced) {
        if (announced != null && loaded.version() < announced) {
            // The announced version is not readable yet: the next request loads afresh rather than keep the old one.
            memory.asMap().computeIfPresent(userId, (user, entry) -> entry.isDone() ? null : entry);
            return;
        }
        memory.asMap().computeIfPresent(userId, (user, entry) -> {
            ServedModel serving = entry.isDone() && !entry.isCompletedExceptionally() ? entry.join() : null;
            return serving == null || serving.version() >= loaded.version() ? entry
                    : CompletableFuture.completedFuture(loaded);
        });
    }

    /** Users served an older base are served {@code base} from now on (their entries change in place). */
    private void serveBase(ServedModel base) {
        memory.synchronous().asMap().replaceAll((user, model) ->
                model.base() && model.version() < base.version() ? base : model);
    }

    /** The models now in memory, by user (for the periodic staleness check). */
    public Map<String, ServedModel> cachedModels() {
        return Map.copyOf(memory.synchronous().asMap());
    }

    /** Up to {@code limit} users served within {@code window}, most recent first, with when they were last served. */
    public List<RecentUser> recentUsers(int limit, Duration window) {
        long now = System.currentTimeMillis();
        List<RecentUser> recent = new ArrayList<>();
        memory.synchronous().policy().expireAfterAccess().ifPresent(expiry -> {
            for (String user : expiry.youngest(limit).keySet()) {
                long age = expiry.ageOf(user, TimeUnit.MILLISECONDS).orElse(Long.MAX_VALUE);
                if (age > window.toMillis()) {
                    break;
                }
                recent.add(new RecentUser(user, now - age));
            }
        });
        return recent;
    }

    /** A user and when (epoch milliseconds) this instance last served it. */
    public record RecentUser(String userId, long lastServedMillis) {
    }
}

package io.mlgateway.modelstore;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.springframework.stereotype.Component;

/**
 * The models this instance holds, by user, bounded by their real footprint ({@code gateway.model-cache.max-bytes}):
 * a user costs its own trees plus a small entry; the base model it builds on is shared and not counted per user.
 * An entry is the load of the user's model (pending or done), so concurrent misses for one user share one load.
 * What to load and when to replace is decided by {@link ModelResolver} and {@link ModelSwapper}.
 */
@Component
public class MemoryTier {

    /**
     * Heap one user's entry costs beyond its model's own trees: the key string, Caffeine's node, the completed
     * future, the {@link ServedModel} and its {@code ScoringModel} (measured with a heap histogram: ~180 bytes).
     */
    public static final int ENTRY_BYTES = 200;

    private final AsyncCache<String, ServedModel> memory;

    public MemoryTier(ModelStoreMetrics metrics, ModelCacheProperties properties, ModelLoader loader) {
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
        metrics.memory(this::size, this::weightedBytes, properties.maxBytes().toBytes(), loader::baseFootprintBytes,
                loader::waitingReads);
    }

    /** A user served the shared base weighs only its entry; a user with its own model, its own trees too. */
    private static int weight(ServedModel model) {
        long own = model.base() ? 0 : model.ownFootprintBytes();
        return (int) Math.min(Integer.MAX_VALUE, ENTRY_BYTES + own);
    }

    /** The user's model if it is held and loaded (the hot path: no allocation), else null. */
    ServedModel loaded(String userId) {
        return loadedOrNull(memory.getIfPresent(userId));
    }

    /** The user's entry, pending or done; null if the user is not held. */
    CompletableFuture<ServedModel> entry(String userId) {
        return memory.getIfPresent(userId);
    }

    /** The user's entry, starting {@code load} if there is none (one load per user however many ask). */
    CompletableFuture<ServedModel> entryOrLoad(String userId, Function<String, CompletableFuture<ServedModel>> load) {
        return memory.get(userId, (user, executor) -> load.apply(user));
    }

    /** Holds {@code model} for the user unless something is held already; true if it was added. */
    boolean addIfAbsent(String userId, ServedModel model) {
        return memory.asMap().putIfAbsent(userId, CompletableFuture.completedFuture(model)) == null;
    }

    /** Drops the user's entry if it is still {@code entry}. */
    void remove(String userId, CompletableFuture<ServedModel> entry) {
        memory.asMap().remove(userId, entry);
    }

    /** Drops the user's entry if its load is over (a pending load reads the newest version by itself). */
    void removeIfSettled(String userId) {
        memory.asMap().computeIfPresent(userId, (user, entry) -> entry.isDone() ? null : entry);
    }

    /**
     * Serves the user {@code loaded} instead of a loaded, older model; leaves an entry that is as new, or still
     * loading, and does not bring back a user that left meanwhile.
     */
    void replaceIfNewer(String userId, ServedModel loaded) {
        memory.asMap().computeIfPresent(userId, (user, entry) -> {
            ServedModel serving = loadedOrNull(entry);
            return serving == null || serving.version() >= loaded.version() ? entry
                    : CompletableFuture.completedFuture(loaded);
        });
    }

    /** Users served an older base are served {@code base} from now on (their entries change in place). */
    void replaceBase(ServedModel base) {
        memory.synchronous().asMap().replaceAll((user, model) ->
                model.base() && model.version() < base.version() ? base : model);
    }

    /** The loaded models, by user (a copy). Holds every model it names until dropped: tests and tools only. */
    public Map<String, ServedModel> models() {
        return Map.copyOf(memory.synchronous().asMap());
    }

    /**
     * The version each held user is served, by user (a copy). What periodic work snapshots instead of the models:
     * a snapshot of models would keep every model it names alive after the tier dropped it, a second copy of the
     * tier for as long as the work takes (under a sweep, the whole tier turns over in a second or two).
     */
    public Map<String, Long> versions() {
        Map<String, Long> versions = new java.util.HashMap<>();
        memory.asMap().forEach((user, entry) -> {
            ServedModel model = loadedOrNull(entry);
            if (model != null) {
                versions.put(user, model.version());
            }
        });
        return versions;
    }

    /** Users held (loaded or loading). */
    public long size() {
        return memory.synchronous().estimatedSize();
    }

    /** Bytes the held users weigh, as counted against {@code max-bytes}. */
    public long weightedBytes() {
        return memory.synchronous().policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
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

    private static ServedModel loadedOrNull(CompletableFuture<ServedModel> entry) {
        return entry != null && entry.isDone() && !entry.isCompletedExceptionally() ? entry.join() : null;
    }
}

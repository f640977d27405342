package io.mlgateway.modelstore;

import java.util.Collection;
import java.util.List;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Which model serves a user now: the one in memory ({@link MemoryTier}), else loaded by {@link ModelLoader}
 * (Redis → PostgreSQL → base); concurrent misses for one user share that single load.
 */
@Component
public class ModelResolver {

    private final MemoryTier memory;
    private final ModelLoader loader;
    private final ModelStoreMetrics metrics;

    public ModelResolver(MemoryTier memory, ModelLoader loader, ModelStoreMetrics metrics) {
        this.memory = memory;
        this.loader = loader;
        this.metrics = metrics;
    }

    /** The user's model if it is in memory and loaded (the hot path: no allocation), else null. */
    public ServedModel cached(String userId) {
        ServedModel hit = memory.loaded(userId);
        if (hit != null) {
            metrics.memoryHit();
        }
        return hit;
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
            return Mono.fromFuture(memory.entryOrLoad(userId, user -> loader.load(user).toFuture()), true);
        });
    }

    /**
     * Loads the models of {@code userIds} not yet in memory, in few registry queries; emits how many were loaded.
     * Used to warm a starting instance with the users its fleet served recently.
     */
    public Mono<Long> preload(Collection<String> userIds) {
        List<String> missing = userIds.stream().filter(u -> memory.entry(u) == null).toList();
        return loader.loadAll(missing)
                .filter(e -> memory.addIfAbsent(e.getKey(), e.getValue()))
                .count();
    }
}

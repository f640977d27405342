package io.mlgateway.modelstore;

import java.util.Collection;
import java.util.List;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Which model serves a user now: the one in memory ({@link MemoryTier}), else loaded by {@link ModelLoader}
 * (Redis → PostgreSQL → base); concurrent misses for one user share that single load.
 */
@Component
public class ModelResolver {

    /** Share of max-bytes past which a warm-up stops: loading more would evict what it has just loaded. */
    private static final double WARM_UP_FILL = 0.9;

    private final MemoryTier memory;
    private final ModelLoader loader;
    private final ModelStoreMetrics metrics;
    private final long warmUpLimit;
    private final int warmUpChunk;

    public ModelResolver(MemoryTier memory, ModelLoader loader, ModelStoreMetrics metrics,
            ModelCacheProperties properties) {
        this.memory = memory;
        this.loader = loader;
        this.metrics = metrics;
        this.warmUpLimit = (long) (WARM_UP_FILL * properties.maxBytes().toBytes());
        this.warmUpChunk = properties.readBatchSize() * properties.maxConcurrentReads();
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

    /** {@code served} in its stored form, which explanations need (read on demand: the served form leaves it out). */
    public Mono<Explainable> explainable(ServedModel served) {
        return loader.explainable(served);
    }

    /**
     * Loads the models of {@code userIds} not yet in memory, in the order given, in few registry queries; emits how
     * many were loaded. Used to warm a starting instance with the users it (or its fleet) served recently. Goes chunk
     * by chunk (the users the registry reads at once) and stops once the tier is 90% full: a warm-up never holds more
     * loads at a time than a cold burst may, and never loads what would only evict what it has just loaded.
     */
    public Mono<Long> preload(Collection<String> userIds) {
        List<String> missing = userIds.stream().filter(u -> memory.entry(u) == null).toList();
        return Flux.fromIterable(missing)
                .buffer(warmUpChunk)
                .concatMap(chunk -> Mono.defer(() -> memory.weightedBytes() >= warmUpLimit ? Mono.just(-1L)
                        : loader.loadAll(chunk).filter(e -> memory.addIfAbsent(e.getKey(), e.getValue())).count()))
                .takeWhile(loaded -> loaded >= 0)
                .reduce(0L, Long::sum);
    }
}

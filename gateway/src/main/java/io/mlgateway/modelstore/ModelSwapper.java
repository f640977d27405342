package io.mlgateway.modelstore;

import io.mlgateway.shared.modelstore.ModelRegistry;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.beans.factory.DisposableBean;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Replaces a user's model in memory when a newer version exists (announced on {@code model-retrained}, found by the
 * version check, or rolled back here), without a request ever waiting for the load.
 *
 * <p>Background loads run {@value #CONCURRENT_LOADS} at a time; the users waiting for one are a queue of ids (one
 * entry per user however many announcements arrive). Until its new model is installed a user's old one serves, so
 * each load in flight holds a second model: a storm of swaps (a version check finding thousands of stale users, a
 * fleet-wide rollback) must not hold a second copy of the tier.
 */
@Component
public class ModelSwapper implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(ModelSwapper.class);
    static final int CONCURRENT_LOADS = 8;
    private static final long UNKNOWN = -1;

    private final MemoryTier memory;
    private final ModelLoader loader;
    private final ModelStoreMetrics metrics;
    /** Users waiting for a background load, with the version announced (or UNKNOWN). */
    private final ConcurrentHashMap<String, Long> waiting = new ConcurrentHashMap<>();
    private final Sinks.Many<String> queue = Sinks.many().unicast().onBackpressureBuffer();
    private final Disposable loads;

    public ModelSwapper(MemoryTier memory, ModelLoader loader, ModelStoreMetrics metrics) {
        this.memory = memory;
        this.loader = loader;
        this.metrics = metrics;
        this.loads = queue.asFlux().flatMap(this::reload, CONCURRENT_LOADS).subscribe();
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
            loader.refreshBase().subscribe(memory::replaceBase,
                    e -> log.warn("loading the new base model failed: {}", e.toString()));
            return;
        }
        if (version != null) {
            loader.raiseMinimum(userId, version);
        }
        CompletableFuture<ServedModel> current = memory.entry(userId);
        if (current == null) {
            return;
        }
        metrics.swapped(trigger);
        if (!current.isDone() || current.isCompletedExceptionally()) {
            // A load is under way and may have read the old version: let the next request load afresh.
            memory.remove(userId, current);
            return;
        }
        long announced = version == null ? UNKNOWN : version;
        boolean[] added = {false};
        waiting.compute(userId, (user, before) -> {
            added[0] = before == null;
            return before == null ? announced : Math.max(before, announced);
        });
        if (added[0]) {
            enqueue(userId);
        }
    }

    private synchronized void enqueue(String userId) {
        queue.emitNext(userId, Sinks.EmitFailureHandler.FAIL_FAST);
    }

    /** The background load of one waiting user, if it is still held. */
    private Mono<Void> reload(String userId) {
        Long announced = waiting.remove(userId);
        CompletableFuture<ServedModel> current = memory.entry(userId);
        if (announced == null || current == null) {
            return Mono.empty();
        }
        return loader.load(userId)
                .doOnNext(loaded -> install(userId, loaded, announced == UNKNOWN ? null : announced))
                .onErrorResume(error -> {
                    log.debug("background load of {}'s new model failed: {}", userId, error.toString());
                    memory.remove(userId, current);
                    return Mono.empty();
                })
                .then();
    }

    /** Users waiting for a background load of their new model. */
    int waiting() {
        return waiting.size();
    }

    @Override
    public void destroy() {
        loads.dispose();
    }

    /**
     * Puts a freshly loaded model in place of the user's entry unless that entry is already as new (a later swap or
     * a request got there first) or is still loading (it reads the newest version itself), or the user left memory
     * meanwhile.
     */
    private void install(String userId, ServedModel loaded, Long announced) {
        if (announced != null && loaded.version() < announced) {
            // The announced version is not readable yet: the next request loads afresh rather than keep the old one.
            memory.removeIfSettled(userId);
            return;
        }
        memory.replaceIfNewer(userId, loaded);
    }
}

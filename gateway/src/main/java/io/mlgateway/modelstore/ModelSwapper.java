package io.mlgateway.modelstore;

import io.mlgateway.shared.modelstore.ModelRegistry;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Replaces a user's model in memory when a newer version exists (announced on {@code model-retrained}, found by the
 * version check, or rolled back here), without a request ever waiting for the load.
 */
@Component
public class ModelSwapper {

    private static final Logger log = LoggerFactory.getLogger(ModelSwapper.class);

    private final MemoryTier memory;
    private final ModelLoader loader;
    private final ModelStoreMetrics metrics;

    public ModelSwapper(MemoryTier memory, ModelLoader loader, ModelStoreMetrics metrics) {
        this.memory = memory;
        this.loader = loader;
        this.metrics = metrics;
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
        loader.load(userId).subscribe(
                loaded -> install(userId, loaded, version),
                error -> {
                    log.debug("background load of {}'s new model failed: {}", userId, error.toString());
                    memory.remove(userId, current);
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
            memory.removeIfSettled(userId);
            return;
        }
        memory.replaceIfNewer(userId, loaded);
    }
}

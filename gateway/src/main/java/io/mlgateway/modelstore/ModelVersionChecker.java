package io.mlgateway.modelstore;

import io.mlgateway.shared.modelstore.ModelRegistry;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.mlgateway.shared.lifecycle.SubscriptionLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Bounds staleness without Kafka: every interval, compares the versions held in memory with the registry's heads
 * and swaps whatever moved. A lost or delayed model-retrained message therefore delays a swap by at most one
 * interval; it never leaves an old model in service.
 */
@Component
public class ModelVersionChecker extends SubscriptionLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ModelVersionChecker.class);

    private final MemoryTier memory;
    private final ModelSwapper swapper;
    private final ModelLoader loader;
    private final ModelRegistry registry;
    private final ModelCacheProperties properties;

    public ModelVersionChecker(MemoryTier memory, ModelSwapper swapper, ModelLoader loader, ModelRegistry registry,
            ModelCacheProperties properties) {
        this.memory = memory;
        this.swapper = swapper;
        this.loader = loader;
        this.registry = registry;
        this.properties = properties;
    }

    /** One comparison pass; emits how many users (the base counting as one) were swapped. */
    public Mono<Integer> checkOnce() {
        // Versions, not models: holding the models for the length of the query would keep a second copy of the
        // tier alive whenever the tier turns over meanwhile.
        Map<String, Long> cached = memory.versions();
        ServedModel base = loader.loadedBase();
        if (cached.isEmpty() && base == null) {
            return Mono.just(0);
        }
        Set<String> users = new HashSet<>(cached.keySet());
        users.add(ModelRegistry.BASE_USER);
        return registry.headVersions(users).map(heads -> {
            int swapped = 0;
            Long baseHead = heads.get(ModelRegistry.BASE_USER);
            if (base != null && baseHead != null && baseHead != base.version()) {
                swapper.swap(ModelRegistry.BASE_USER, baseHead, "version-check");
                swapped++;
            }
            for (Map.Entry<String, Long> entry : cached.entrySet()) {
                Long head = heads.get(entry.getKey());
                // A user served the base whose own model appeared, or a user whose own model moved on.
                if (head != null && !head.equals(entry.getValue())) {
                    swapper.swap(entry.getKey(), head, "version-check");
                    swapped++;
                }
            }
            return swapped;
        });
    }

    @Override
    protected Disposable subscribe() {
        return Flux.interval(properties.versionCheckInterval(), properties.versionCheckInterval())
                .onBackpressureDrop()
                .concatMap(tick -> checkOnce()
                        .doOnNext(n -> {
                            if (n > 0) {
                                log.info("version check swapped {} stale models", n);
                            }
                        })
                        .onErrorResume(e -> {
                            log.warn("version check failed (registry unreachable?): {}", e.toString());
                            return Mono.empty();
                        }))
                .subscribe();
    }

}

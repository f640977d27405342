package io.mlgateway.modelstore;

import io.mlgateway.core.modelstore.ModelRegistry;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.mlgateway.core.lifecycle.SubscriptionLifecycle;
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

    private final ModelResolver resolver;
    private final ModelRegistry registry;
    private final ModelCacheProperties properties;

    public ModelVersionChecker(ModelResolver resolver, ModelRegistry registry, ModelCacheProperties properties) {
        this.resolver = resolver;
        this.registry = registry;
        this.properties = properties;
    }

    /** One comparison pass; emits how many users were evicted. */
    public Mono<Integer> checkOnce() {
        Map<String, LoadedModel> cached = resolver.cachedModels();
        if (cached.isEmpty()) {
            return Mono.just(0);
        }
        Set<String> users = new HashSet<>(cached.keySet());
        users.add(ModelRegistry.BASE_USER);
        return registry.headVersions(users).map(heads -> {
            int evicted = 0;
            for (Map.Entry<String, LoadedModel> entry : cached.entrySet()) {
                String user = entry.getKey();
                LoadedModel model = entry.getValue();
                boolean servedBase = model.isBase() && !ModelRegistry.BASE_USER.equals(user);
                Long head = heads.get(servedBase ? ModelRegistry.BASE_USER : user);
                boolean ownModelAppeared = servedBase && heads.containsKey(user);
                if (ownModelAppeared || (head != null && head != model.version())) {
                    resolver.swap(user, heads.get(user), "version-check");
                    evicted++;
                }
            }
            return evicted;
        });
    }

    @Override
    protected Disposable subscribe() {
        return Flux.interval(properties.versionCheckInterval(), properties.versionCheckInterval())
                .onBackpressureDrop()
                .concatMap(tick -> checkOnce()
                        .doOnNext(n -> {
                            if (n > 0) {
                                log.info("version check evicted {} stale models", n);
                            }
                        })
                        .onErrorResume(e -> {
                            log.warn("version check failed (registry unreachable?): {}", e.toString());
                            return Mono.empty();
                        }))
                .subscribe();
    }

}

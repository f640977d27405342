package io.mlgateway.modelstore;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;

/** Model-store counters. Tags are tiers and outcomes only: never user ids (cardinality). */
@Component
public class ModelStoreMetrics {

    private final MeterRegistry meters;
    /** Every rentals request counts a lookup: registering the counter each time would cost a registry search. */
    private final ConcurrentHashMap<String, Counter> lookups = new ConcurrentHashMap<>();

    public ModelStoreMetrics(MeterRegistry meters) {
        this.meters = meters;
    }

    /** tier: memory | redis | postgres | base; result: hit | miss | error. */
    public void lookup(String tier, String result) {
        String key = tier + '/' + result;
        Counter counter = lookups.get(key);
        if (counter == null) {
            counter = lookups.computeIfAbsent(key, k -> Counter.builder("gateway.modelstore.lookups")
                    .description("model lookups per cache tier and outcome")
                    .tag("tier", tier).tag("result", result).register(meters));
        }
        counter.increment();
    }

    /** A booster deserialized into memory; source: redis | postgres. */
    public void loaded(String source) {
        Counter.builder("gateway.modelstore.loads").description("boosters deserialized into memory")
                .tag("source", source).register(meters).increment();
    }

    /** A cached model dropped because a newer version exists; trigger: kafka | version-check. */
    public void swapped(String trigger) {
        Counter.builder("gateway.modelstore.swaps").description("cached models replaced by a newer version")
                .tag("trigger", trigger).register(meters).increment();
    }

    public MeterRegistry registry() {
        return meters;
    }
}

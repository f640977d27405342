package io.mlgateway.modelstore;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;

/** Model-store counters. Tags are tiers and outcomes only: never user ids (cardinality). */
@Component
public class ModelStoreMetrics {

    private final MeterRegistry meters;
    /** Every rentals request counts a lookup: registering the counter each time would cost a registry search. */
    private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();

    /**
     * Registers every counter with each of its label values up front: a series that appears only after the first
     * swap or Redis error leaves dashboards empty and rate()-based alerts blind until then.
     */
    public ModelStoreMetrics(MeterRegistry meters) {
        this.meters = meters;
        for (String tier : List.of("memory", "redis", "postgres", "base")) {
            for (String result : List.of("hit", "miss", "error")) {
                lookupCounter(tier, result);
            }
        }
        List.of("redis", "postgres").forEach(this::loadCounter);
        List.of("kafka", "version-check").forEach(this::swapCounter);
    }

    /** tier: memory | redis | postgres | base; result: hit | miss | error. */
    public void lookup(String tier, String result) {
        lookupCounter(tier, result).increment();
    }

    /** A booster deserialized into memory; source: redis | postgres. */
    public void loaded(String source) {
        loadCounter(source).increment();
    }

    /** A cached model dropped because a newer version exists; trigger: kafka | version-check. */
    public void swapped(String trigger) {
        swapCounter(trigger).increment();
    }

    private Counter lookupCounter(String tier, String result) {
        return counter("lookups/" + tier + '/' + result, () -> Counter.builder("gateway.modelstore.lookups")
                .description("model lookups per cache tier and outcome").tag("tier", tier).tag("result", result));
    }

    private Counter loadCounter(String source) {
        return counter("loads/" + source, () -> Counter.builder("gateway.modelstore.loads")
                .description("boosters deserialized into memory").tag("source", source));
    }

    private Counter swapCounter(String trigger) {
        return counter("swaps/" + trigger, () -> Counter.builder("gateway.modelstore.swaps")
                .description("cached models replaced by a newer version").tag("trigger", trigger));
    }

    private Counter counter(String key, java.util.function.Supplier<Counter.Builder> builder) {
        Counter counter = counters.get(key);
        return counter != null ? counter : counters.computeIfAbsent(key, k -> builder.get().register(meters));
    }

    public MeterRegistry registry() {
        return meters;
    }
}

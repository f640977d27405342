package io.mlgateway.modelstore;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.springframework.stereotype.Component;

/** Model-store meters. Tags are tiers, sources and outcomes only: never user ids (cardinality). */
@Component
public class ModelStoreMetrics {

    private final MeterRegistry meters;
    /** Every rentals request counts a lookup: registering the counter each time would cost a registry search. */
    private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
    private final Counter memoryHits;

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
        this.memoryHits = lookupCounter("memory", "hit");
        List.of("redis", "postgres").forEach(source -> {
            loadCounter(source);
            loadTimer(source);
        });
        List.of("kafka", "version-check").forEach(this::swapCounter);
        List.of("size", "idle").forEach(this::evictionCounter);
    }

    /** The memory tier answered (the per-request path: a field, no lookup). */
    public void memoryHit() {
        memoryHits.increment();
    }

    /** tier: memory | redis | postgres | base; result: hit | miss | error. */
    public void lookup(String tier, String result) {
        lookupCounter(tier, result).increment();
    }

    /** A user's model read and made ready to score; source: redis | postgres. */
    public void loaded(String source, long nanos) {
        loadCounter(source).increment();
        loadTimer(source).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A cached model dropped because a newer version exists; trigger: kafka | version-check. */
    public void swapped(String trigger) {
        swapCounter(trigger).increment();
    }

    /** A user's model left memory; cause: size (the byte bound) | idle (not served for idle-expiry). */
    public void evicted(String cause) {
        evictionCounter(cause).increment();
    }

    /** The memory tier's gauges (held strongly: the suppliers are lambdas nothing else references). */
    void memory(Supplier<Number> users, Supplier<Number> userBytes, long limitBytes, Supplier<Number> baseBytes,
            Supplier<Number> waitingReads) {
        Gauge.builder("gateway.modelstore.cache.entries", users, s -> s.get().doubleValue())
                .description("users with a model in this instance's memory").strongReference(true).register(meters);
        Gauge.builder("gateway.modelstore.memory.bytes", userBytes, s -> s.get().doubleValue()).tag("part", "users")
                .description("heap held by models in memory: users' own trees and entries (part=users), shared base"
                        + " models counted once (part=bases)")
                .baseUnit("bytes").strongReference(true).register(meters);
        Gauge.builder("gateway.modelstore.memory.bytes", baseBytes, s -> s.get().doubleValue()).tag("part", "bases")
                .baseUnit("bytes").strongReference(true).register(meters);
        Gauge.builder("gateway.modelstore.memory.limit.bytes", () -> limitBytes)
                .description("what users' models may occupy (gateway.model-cache.max-bytes); bases are not counted")
                .baseUnit("bytes").register(meters);
        Gauge.builder("gateway.modelstore.reads.waiting", waitingReads, s -> s.get().doubleValue())
                .description("users waiting for a registry query to read their model"
                        + " (gateway.model-cache.max-concurrent-reads in flight)")
                .strongReference(true).register(meters);
    }

    private Counter lookupCounter(String tier, String result) {
        return counter("lookups/" + tier + '/' + result, () -> Counter.builder("gateway.modelstore.lookups")
                .description("model lookups per cache tier and outcome").tag("tier", tier).tag("result", result));
    }

    private Counter loadCounter(String source) {
        return counter("loads/" + source, () -> Counter.builder("gateway.modelstore.loads")
                .description("user models read and made ready to score").tag("source", source));
    }

    private Timer loadTimer(String source) {
        return Timer.builder("gateway.modelstore.load.latency")
                .description("from asking a tier for a user's model to the model ready to score").tag("source", source)
                .publishPercentileHistogram().register(meters);
    }

    private Counter swapCounter(String trigger) {
        return counter("swaps/" + trigger, () -> Counter.builder("gateway.modelstore.swaps")
                .description("cached models replaced by a newer version").tag("trigger", trigger));
    }

    private Counter evictionCounter(String cause) {
        return counter("evictions/" + cause, () -> Counter.builder("gateway.modelstore.evictions")
                .description("user models dropped from memory").tag("cause", cause));
    }

    private Counter counter(String key, Supplier<Counter.Builder> builder) {
        Counter counter = counters.get(key);
        return counter != null ? counter : counters.computeIfAbsent(key, k -> builder.get().register(meters));
    }

    public MeterRegistry registry() {
        return meters;
    }
}

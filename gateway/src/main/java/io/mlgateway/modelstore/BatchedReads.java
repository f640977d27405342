package io.mlgateway.modelstore;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Reads by key gathered into few queries: a read that finds fewer than {@code maxInFlight} queries running starts
 * one at once; otherwise it waits and goes with the other waiting reads in the next query, up to
 * {@code maxBatch} keys each, as soon as a running query finishes. Under a burst of cold users (a restart, a
 * sweep over thousands of users) the registry then answers a few queries of hundreds of users instead of one
 * query per user, and the number of queries in flight, hence connections taken from the pool, stays bounded. An idle
 * store adds no wait: a lone read is a query of one.
 *
 * @param <V> what a key reads to; a key the query does not answer reads to empty
 */
final class BatchedReads<V> {

    private final Function<List<String>, Mono<Map<String, V>>> query;
    private final int maxInFlight;
    private final int maxBatch;
    private final ArrayDeque<Read<V>> waiting = new ArrayDeque<>();
    private int inFlight;

    /**
     * @param query reads many keys in one go; keys it has no value for are absent from its map
     */
    BatchedReads(Function<List<String>, Mono<Map<String, V>>> query, int maxInFlight, int maxBatch) {
        if (maxInFlight < 1 || maxBatch < 1) {
            throw new IllegalArgumentException("maxInFlight and maxBatch must be at least 1");
        }
        this.query = query;
        this.maxInFlight = maxInFlight;
        this.maxBatch = maxBatch;
    }

    /** The value of {@code key}, read in whatever query it joins; empty if there is none. */
    Mono<V> read(String key) {
        return Mono.create(sink -> {
            List<Read<V>> batch;
            synchronized (this) {
                waiting.add(new Read<>(key, sink));
                batch = takeBatch();
            }
            if (batch != null) {
                run(batch);
            }
        });
    }

    /** The values of many keys (those that have one), through the same batches. */
    Mono<Map<String, V>> readAll(Collection<String> keys) {
        return reactor.core.publisher.Flux.fromIterable(keys)
                .flatMap(key -> read(key).map(value -> Map.entry(key, value)), Integer.MAX_VALUE)
                .collectMap(Map.Entry::getKey, Map.Entry::getValue);
    }

    /** Up to maxBatch waiting reads if a query may start now, else null; called holding the lock. */
    private List<Read<V>> takeBatch() {
        if (inFlight >= maxInFlight || waiting.isEmpty()) {
            return null;
        }
        List<Read<V>> batch = new ArrayList<>(Math.min(maxBatch, waiting.size()));
        while (batch.size() < maxBatch && !waiting.isEmpty()) {
            batch.add(waiting.poll());
        }
        inFlight++;
        return batch;
    }

    private void run(List<Read<V>> batch) {
        List<String> keys = batch.stream().map(Read::key).distinct().toList();
        Mono<Map<String, V>> result;
        try {
            result = query.apply(keys);
        } catch (RuntimeException e) {
            result = Mono.error(e);
        }
        result.defaultIfEmpty(Map.of()).subscribe(found -> {
            for (Read<V> read : batch) {
                V value = found.get(read.key());
                if (value == null) {
                    read.sink().success();
                } else {
                    read.sink().success(value);
                }
            }
        }, error -> {
            finished();
            batch.forEach(read -> read.sink().error(error));
        }, this::finished);
    }

    /** A query ended: the next one starts with what has been waiting meanwhile. */
    private void finished() {
        List<Read<V>> next;
        synchronized (this) {
            inFlight--;
            next = takeBatch();
        }
        if (next != null) {
            run(next);
        }
    }

    synchronized int waiting() {
        return waiting.size();
    }

    private record Read<V>(String key, MonoSink<V> sink) {
    }
}

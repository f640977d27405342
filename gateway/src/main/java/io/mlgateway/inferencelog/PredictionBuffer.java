package io.mlgateway.inferencelog;

import io.mlgateway.shared.inferencelog.PredictionRecord;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The predictions the inference log holds: accepted and not yet written, whether waiting in the queue or in the
 * batch being written. Never more than {@code capacity}: a caller reserves room for all its records or gets none.
 * Any thread may reserve and add; only the writer polls and releases.
 */
final class PredictionBuffer {

    private final int capacity;
    private final ConcurrentLinkedQueue<PredictionRecord> queue = new ConcurrentLinkedQueue<>();
    /** Request ids held, so an actual can wait for its prediction's row. */
    private final Set<UUID> pending = ConcurrentHashMap.newKeySet();
    /** Queued plus the batch being written. */
    private final AtomicInteger held = new AtomicInteger();

    PredictionBuffer(int capacity) {
        this.capacity = capacity;
    }

    int capacity() {
        return capacity;
    }

    /** Room for {@code n} more, taken, or false (and nothing taken) if that would pass the capacity. */
    boolean reserve(int n) {
        while (true) {
            int current = held.get();
            if (current > capacity - n) {
                return false;
            }
            if (held.compareAndSet(current, current + n)) {
                return true;
            }
        }
    }

    /** Gives back room reserved and not used. */
    void unreserve(int n) {
        held.addAndGet(-n);
    }

    /** Queues records room was reserved for. */
    void add(List<PredictionRecord> records) {
        for (PredictionRecord r : records) {
            pending.add(r.requestId());
        }
        queue.addAll(records);
    }

    PredictionRecord peek() {
        return queue.peek();
    }

    PredictionRecord poll() {
        return queue.poll();
    }

    boolean queueEmpty() {
        return queue.isEmpty();
    }

    /** Forgets written records; answers how many are still held. */
    int release(List<PredictionRecord> written) {
        for (PredictionRecord r : written) {
            pending.remove(r.requestId());
        }
        return held.addAndGet(-written.size());
    }

    int held() {
        return held.get();
    }

    boolean isPending(UUID requestId) {
        return pending.contains(requestId);
    }

    boolean noneHeld(List<UUID> ids) {
        for (UUID id : ids) {
            if (pending.contains(id)) {
                return false;
            }
        }
        return true;
    }
}

package io.mlgateway.modelstore;

import java.util.ArrayDeque;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * At most {@code limit} model loads in flight; the others wait their turn in arrival order instead of failing.
 * A cold start meeting thousands of unknown users at once then reads the registry at the pace its connection pool
 * allows, rather than timing out on the pool and answering 503 to requests that only had to wait a moment.
 */
final class LoadLimit {

    private final int limit;
    private final ArrayDeque<Turn<?>> waiting = new ArrayDeque<>();
    private int running;
    /** One thread at a time starts waiting turns (a loop, not recursion: synchronous loads cannot grow the stack). */
    private boolean draining;

    LoadLimit(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1");
        }
        this.limit = limit;
    }

    /** {@code work}, subscribed once a slot is free; a subscriber that cancels while waiting gives up its turn. */
    <T> Mono<T> run(Mono<T> work) {
        return Mono.create(sink -> {
            Turn<T> turn = new Turn<>(work, sink);
            sink.onCancel(turn::cancel);
            synchronized (this) {
                waiting.add(turn);
            }
            drain();
        });
    }

    private void release() {
        synchronized (this) {
            running--;
        }
        drain();
    }

    private void drain() {
        synchronized (this) {
            if (draining) {
                return; // the draining thread re-reads the state before it stops
            }
            draining = true;
        }
        while (true) {
            Turn<?> next;
            synchronized (this) {
                next = running < limit ? waiting.poll() : null;
                if (next == null) {
                    draining = false;
                    return;
                }
                running++;
            }
            next.start();
        }
    }

    synchronized int inFlight() {
        return running;
    }

    synchronized int queued() {
        return waiting.size();
    }

    private final class Turn<T> {

        private final Mono<T> work;
        private final MonoSink<T> sink;
        private Disposable subscription;
        private boolean cancelled;

        Turn(Mono<T> work, MonoSink<T> sink) {
            this.work = work;
            this.sink = sink;
        }

        synchronized void start() {
            if (cancelled) {
                release();
                return;
            }
            subscription = work.doFinally(signal -> release()).subscribe(sink::success, sink::error, sink::success);
        }

        synchronized void cancel() {
            cancelled = true;
            if (subscription != null) {
                subscription.dispose();
            }
        }
    }
}

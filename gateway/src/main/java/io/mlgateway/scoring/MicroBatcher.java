package io.mlgateway.scoring;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Adaptive micro-batching: concurrent single-row requests are gathered into one scoring call. What a batch saves
 * is the fixed cost per call: a native call (CatBoost's for regno), and for every model the hand-off from a Netty
 * event loop to a scoring thread, which wakes that thread. Under load one call per request would spend much of the
 * machine on those.
 *
 * <p>Each key (the regno model; for rentals, one lane for all users, whose Java models score any mix of rows) has
 * a lane of waiting rows:
 * <ul>
 *   <li>a row that finds its lane idle is dispatched at once: no added latency when the scorer is idle;</li>
 *   <li>while a batch of the lane is scoring, rows wait; they go as soon as that batch finishes, or when
 *       {@code maxBatchSize} rows wait, or when the oldest has waited {@code maxWait} (then another scoring thread
 *       takes them). Batches therefore grow by themselves to what arrives during one scoring call.</li>
 * </ul>
 * A batch takes its rows when it starts on a scoring thread, not when it is queued, so rows arriving meanwhile
 * join it. Results go back to each request in order. If a batch call fails, each of its rows is scored alone,
 * so one bad row never fails its neighbours. Waiting rows count against the executor's bounded queue (503 past it).
 */
public final class MicroBatcher<K, I, O> {

    private static final Logger log = LoggerFactory.getLogger(MicroBatcher.class);

    /** Scores inputs with {@code key} in one call, returning exactly one output per input, in order. */
    @FunctionalInterface
    public interface BatchFunction<K, I, O> {
        List<O> score(K key, List<I> inputs) throws Exception;
    }

    private final String model;
    private final BatchFunction<K, I, O> function;
    private final ScoringExecutor executor;
    private final ScoringExecutor.ModelMeters meters;
    private final int maxBatchSize;
    private final long maxWaitNanos;
    private final int maxConcurrentBatches;
    private final ConcurrentHashMap<K, Lane> lanes = new ConcurrentHashMap<>();
    private final DistributionSummary batchSizes;
    private final Counter isolatedRows;

    MicroBatcher(String model, BatchFunction<K, I, O> function, ScoringExecutor executor,
            ScoringProperties.Batching batching, MeterRegistry registry) {
        this.model = model;
        this.function = function;
        this.executor = executor;
        this.meters = executor.meters(model);
        this.maxBatchSize = batching.maxBatchSize();
        this.maxWaitNanos = batching.maxWait().toNanos();
        // One model may keep every scoring thread busy (regno has a single model), but not more.
        this.maxConcurrentBatches = executor.threads();
        this.batchSizes = DistributionSummary.builder("gateway.scoring.batch.size")
                .description("rows per scoring call").tag("model", model)
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256).register(registry);
        this.isolatedRows = Counter.builder("gateway.scoring.isolated.rows")
                .description("rows scored alone because the batch they were in failed").tag("model", model)
                .register(registry);
    }

    /** Scores one row with {@code key} as part of whatever batch it joins. */
    public Mono<O> submit(K key, I input) {
        return Mono.create(sink -> {
            if (!executor.tryReserve()) {
                sink.error(executor.overloaded(model));
                return;
            }
            Item<I, O> item = new Item<>(input, sink, System.nanoTime());
            sink.onCancel(item::cancel);
            lane(key).add(item);
        });
    }

    private Lane lane(K key) {
        Lane lane = lanes.get(key);
        return lane != null ? lane : lanes.computeIfAbsent(key, Lane::new);
    }

    /** Lanes with rows waiting or scoring (idle lanes are dropped). */
    int activeLanes() {
        return lanes.size();
    }

    /**
     * The waiting rows of one key. A lane leaves the map when it has nothing waiting or scoring; a request that
     * still reaches a lane that has just left it is served by it all the same (it schedules its own batch).
     */
    private final class Lane implements Runnable {

        private final K key;
        private final ArrayDeque<Item<I, O>> waiting = new ArrayDeque<>();
        /** Batches handed to the pool and not finished. */
        private int running;
        private boolean timerArmed;

        Lane(K key) {
            this.key = key;
        }

        void add(Item<I, O> item) {
            boolean dispatch = false;
            boolean arm = false;
            synchronized (this) {
                waiting.add(item);
                if (running == 0 || (waiting.size() >= maxBatchSize && running < maxConcurrentBatches)) {
                    running++;
                    dispatch = true;
                } else if (!timerArmed && maxWaitNanos > 0 && running < maxConcurrentBatches) {
                    timerArmed = true;
                    arm = true;
                }
            }
            if (dispatch) {
                dispatch();
            } else if (arm) {
                try {
                    executor.timer().schedule(this::waitedEnough, maxWaitNanos, TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException e) {
                    // No timer (shutting down): rows still go when the running batch finishes.
                    synchronized (this) {
                        timerArmed = false;
                    }
                }
            }
        }

        /** The oldest waiting row has waited maxWait: let another scoring thread take what is waiting. */
        private void waitedEnough() {
            boolean dispatch = false;
            synchronized (this) {
                timerArmed = false;
                if (!waiting.isEmpty() && running < maxConcurrentBatches) {
                    running++;
                    dispatch = true;
                }
            }
            if (dispatch) {
                dispatch();
            }
        }

        private void dispatch() {
            try {
                executor.execute(this);
            } catch (RejectedExecutionException e) {
                List<Item<I, O>> dropped;
                synchronized (this) {
                    running--;
                    dropped = new ArrayList<>(waiting);
                    waiting.clear();
                    leaveIfIdle();
                }
                executor.release(dropped.size());
                ScoringOverloadedException overloaded = executor.overloaded(model);
                dropped.forEach(item -> item.fail(overloaded));
            }
        }

        /** One batch, on a scoring thread. */
        @Override
        public void run() {
            List<Item<I, O>> batch = new ArrayList<>(Math.min(maxBatchSize, 64));
            List<Item<I, O>> cancelled = null;
            synchronized (this) {
                while (batch.size() < maxBatchSize && !waiting.isEmpty()) {
                    Item<I, O> item = waiting.poll();
                    if (item.cancelled) {
                        cancelled = cancelled == null ? new ArrayList<>() : cancelled;
                        cancelled.add(item);
                    } else {
                        batch.add(item);
                    }
                }
            }
            executor.release(batch.size() + (cancelled == null ? 0 : cancelled.size()));
            try {
                if (!batch.isEmpty()) {
                    score(batch);
                }
            } finally {
                boolean again;
                synchronized (this) {
                    again = !waiting.isEmpty();
                    if (!again) {
                        running--;
                        leaveIfIdle();
                    }
                }
                if (again) {
                    // Back of the pool's queue rather than looping here: other models and users get their turn.
                    dispatch();
                }
            }
        }

        private void leaveIfIdle() {
            if (running == 0 && waiting.isEmpty()) {
                lanes.remove(key, this);
            }
        }

        private void score(List<Item<I, O>> batch) {
            long started = System.nanoTime();
            List<I> inputs = new ArrayList<>(batch.size());
            for (Item<I, O> item : batch) {
                meters.queueWait().record(started - item.enqueued, TimeUnit.NANOSECONDS);
                inputs.add(item.input);
            }
            List<O> outputs;
            try {
                outputs = function.score(key, inputs);
                if (outputs.size() != inputs.size()) {
                    throw new IllegalStateException("batch of " + inputs.size() + " rows gave " + outputs.size()
                            + " results");
                }
            } catch (Throwable e) {
                outputs = null;
                if (batch.size() == 1) {
                    batch.get(0).fail(e);
                    return;
                }
                log.debug("{} batch of {} rows failed ({}); scoring its rows one by one", model, batch.size(), e.toString());
            }
            if (outputs == null) {
                isolatedRows.increment(batch.size());
                for (Item<I, O> item : batch) {
                    scoreAlone(item);
                }
                return;
            }
            meters.latency().record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
            batchSizes.record(batch.size());
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).succeed(outputs.get(i));
            }
        }

        private void scoreAlone(Item<I, O> item) {
            try {
                List<O> output = function.score(key, List.of(item.input));
                item.succeed(output.get(0));
            } catch (Throwable e) {
                item.fail(e);
            }
        }
    }

    private static final class Item<I, O> {

        final I input;
        final MonoSink<O> sink;
        final long enqueued;
        volatile boolean cancelled;

        Item(I input, MonoSink<O> sink, long enqueued) {
            this.input = input;
            this.sink = sink;
            this.enqueued = enqueued;
        }

        void cancel() {
            cancelled = true;
        }

        void succeed(O output) {
            sink.success(output);
        }

        void fail(Throwable e) {
            sink.error(e);
        }
    }
}

package io.mlgateway.inferencelog;

import io.micrometer.core.instrument.MeterRegistry;
import io.mlgateway.shared.inferencelog.PredictionRecord;
import io.mlgateway.shared.inferencelog.PredictionTable;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.SmartLifecycle;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Writes every answered prediction to {@code rental_predictions}, off the request path and in batches.
 *
 * <p>The request path only {@link #offer}s: a few non-blocking operations on concurrent collections. One
 * background writer on a thread of its own takes up to {@code batchSize} buffered predictions, writes them with a
 * single INSERT and only then forgets them. Writes start at most once per {@code flushInterval}, except that a
 * full batch goes at once: a quiet log writes each prediction as it comes (the last write is long past), a busy
 * one writes everything that arrived in the interval in one statement (one commit instead of hundreds), and a
 * backlog drains in full batches back to back. A failed write keeps its predictions and is retried with jittered
 * exponential backoff for as long as it takes; the table ignores rows it already has, so a retry never
 * duplicates.
 *
 * <p>The buffer is bounded: predictions held (waiting or being written) never exceed {@code capacity}. Past it
 * {@code offer} returns false and the caller must refuse the prediction (503) instead of answering it unlogged.
 * The buffer is memory only: a database outage is survived up to {@code capacity / rate} seconds, a crash of the
 * gateway process is not (docs/INFERENCE_LOG.md explains why and what the limits are).
 */
@Component
public class InferenceLog implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(InferenceLog.class);

    /** After the web server (Boot stops it at {@code DEFAULT_PHASE - 2048}), so no prediction arrives meanwhile. */
    static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 3072;

    private final Function<List<PredictionRecord>, Mono<Long>> writer;
    private final InferenceLogProperties properties;
    private final RetryBackoff backoff;
    private final DoubleSupplier jitter;
    private final Scheduler scheduler;
    private final boolean ownsScheduler;
    private final Scheduler.Worker worker;

    private final PredictionBuffer buffer;
    private final InferenceLogMetrics metrics;
    private final AtomicBoolean wakeScheduled = new AtomicBoolean();
    /**
     * What the writer does, published for offers: they wake it only when that is needed, since a wake is a task
     * hand-off and a thread unpark per prediction. Busy (writing, or waiting to retry): it drains by itself when
     * that is over. Spacing (waiting out the flush interval): it drains at the end of the interval, so offers wake it
     * only once a whole batch is held (it then writes at once). Idle: every offer wakes it.
     */
    private volatile WriterState state = WriterState.IDLE;

    private enum WriterState { IDLE, SPACING, BUSY }
    private final Sinks.Many<Long> flushes = Sinks.many().multicast().directBestEffort();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private volatile boolean stopping;
    private volatile boolean running = true;
    private volatile boolean full;

    // Owned by the writer: touched only in tasks on `worker`, which runs them one at a time.
    private final List<PredictionRecord> batch = new ArrayList<>();
    private boolean writing;
    private boolean backingOff;
    /** A write started less than flushInterval ago; a task clears this when the interval is over. */
    private boolean spacing;
    /** Counts write starts, so only the task of the latest one clears {@code spacing}. */
    private long writesStarted;
    private int failures;
    private long flushCount;
    /** created_at of the oldest prediction in {@code batch}; read by the age gauge. */
    private volatile Instant oldestInBatch;

    @Autowired
    public InferenceLog(DatabaseClient db, InferenceLogProperties properties, MeterRegistry meters) {
        this(new PredictionTable(db)::insert, properties, meters, Schedulers.newSingle("inference-log", true), true,
                () -> ThreadLocalRandom.current().nextDouble());
    }

    /**
     * @param writer        writes one batch, emitting the rows inserted (errors are retried)
     * @param scheduler     runs the writer's tasks; tests pass a virtual-time scheduler
     * @param ownsScheduler whether {@link #stop()} disposes {@code scheduler}
     * @param jitter        uniform in [0, 1), for the retry backoff
     */
    InferenceLog(Function<List<PredictionRecord>, Mono<Long>> writer, InferenceLogProperties properties,
            MeterRegistry meters, Scheduler scheduler, boolean ownsScheduler, DoubleSupplier jitter) {
        this.writer = writer;
        this.properties = properties;
        this.backoff = new RetryBackoff(properties.retryMinBackoff(), properties.retryMaxBackoff());
        this.jitter = jitter;
        this.scheduler = scheduler;
        this.ownsScheduler = ownsScheduler;
        this.worker = scheduler.createWorker();
        this.buffer = new PredictionBuffer(properties.capacity());
        this.metrics = new InferenceLogMetrics(meters, buffer::held, properties.capacity(), this::oldestAgeSeconds);
    }

    /** {@link #offerAll} of one prediction. */
    public boolean offer(PredictionRecord record) {
        return offerAll(List.of(record));
    }

    /**
     * Accepts every one of {@code records} for writing, or none: false when the buffer cannot take them all (or the
     * log is stopping). Never blocks; safe on an event loop. The log keeps the records as they are, so their feature
     * arrays must not be changed afterwards.
     */
    public boolean offerAll(List<PredictionRecord> records) {
        int n = records.size();
        if (n == 0) {
            return true;
        }
        for (PredictionRecord r : records) {
            validate(r);
        }
        if (!buffer.reserve(n)) {
            refuse(n, "full");
            return false;
        }
        if (stopping) {
            // Checked after reserving: stop() sets `stopping` before reading what is held, so either it sees this
            // reservation and waits for it, or this sees `stopping` and gives the slots back.
            buffer.unreserve(n);
            refuse(n, "stopping");
            wake();
            return false;
        }
        buffer.add(records);
        WriterState writer = state;
        if (writer == WriterState.IDLE || (writer == WriterState.SPACING && buffer.held() >= properties.batchSize())) {
            wake();
        }
        return true;
    }

    /** A row PostgreSQL would refuse would fail its whole batch on every retry and stall the log: refuse it here. */
    private static void validate(PredictionRecord r) {
        if (r.requestId() == null || r.userId() == null || r.createdAt() == null) {
            throw new IllegalArgumentException("prediction record needs a request id, a user id and created_at");
        }
        if (r.userId().indexOf('\0') >= 0) {
            throw new IllegalArgumentException("user id must not contain NUL");
        }
    }

    private void refuse(int n, String why) {
        metrics.rejected(n);
        if (!full) {
            full = true;
            log.warn("inference log refusing predictions ({}): {} of {} held; rentals predictions get 503",
                    why, buffer.held(), properties.capacity());
        }
    }

    /** Whether this prediction was accepted and is not written yet. */
    public boolean isPending(UUID requestId) {
        return buffer.isPending(requestId);
    }

    /**
     * Completes once none of {@code requestIds} is waiting to be written (each is written, or was never offered);
     * fails with {@link TimeoutException} if that takes longer than {@code timeout}, and with
     * {@link IllegalStateException} if the log stops first. Completes on a Reactor parallel thread.
     */
    public Mono<Void> awaitPersisted(Collection<UUID> requestIds, Duration timeout) {
        List<UUID> ids = List.copyOf(requestIds);
        return Mono.defer(() -> {
            if (buffer.noneHeld(ids)) {
                return Mono.<Void>empty();
            }
            // Subscribe to flush signals first and only then look again, so a flush in between is not missed.
            return Flux.merge(flushes.asFlux(), Mono.just(0L))
                    .filter(signal -> buffer.noneHeld(ids))
                    .next()
                    .switchIfEmpty(Mono.defer(() -> buffer.noneHeld(ids) ? Mono.empty()
                            : Mono.error(new IllegalStateException("inference log stopped before writing them"))))
                    .then()
                    // off the writer's thread: whatever the caller chains next must never delay a write
                    .publishOn(Schedulers.parallel())
                    .timeout(timeout, Mono.error(() -> new TimeoutException(
                            "predictions not written to the inference log within " + timeout)));
        });
    }

    // ---- the writer: every method below runs on `worker` ----

    private void wake() {
        if (wakeScheduled.compareAndSet(false, true)) {
            onWorker(() -> {
                wakeScheduled.set(false);
                drain();
            }, 0);
        }
    }

    private void onWorker(Runnable task, long delayNanos) {
        try {
            if (delayNanos > 0) {
                worker.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
            } else {
                worker.schedule(task);
            }
        } catch (RejectedExecutionException e) {
            // stopped: what is still held was counted and logged by stop()
        }
    }

    private void drain() {
        drainOnce();
        // Publish the state, then look at the queue again: a record offered while the state said busy (and so did
        // not wake the writer) is either seen here or was offered after the state changed, and woke it.
        while (true) {
            state = writing || backingOff ? WriterState.BUSY : spacing ? WriterState.SPACING : WriterState.IDLE;
            if (state != WriterState.IDLE || buffer.queueEmpty()) {
                return;
            }
            drainOnce();
        }
    }

    private void drainOnce() {
        if (writing || backingOff) {
            return;
        }
        PredictionRecord next;
        while (batch.size() < properties.batchSize() && (next = buffer.peek()) != null) {
            // Publish the batch's age before taking the record off the queue, so the age gauge (which reads the
            // queue first, then this) can never miss a record in transit. Only this worker polls the queue.
            if (batch.isEmpty()) {
                oldestInBatch = next.createdAt();
            }
            buffer.poll();
            batch.add(next);
        }
        if (batch.isEmpty()) {
            if (stopping && buffer.held() == 0) {
                drained.complete(null);
            }
            return;
        }
        oldestInBatch = batch.get(0).createdAt();
        if (spacing && batch.size() < properties.batchSize() && !stopping) {
            return; // the batch fills until the interval is over, then the task below drains it
        }
        spacing = true;
        long thisWrite = ++writesStarted;
        onWorker(() -> {
            if (thisWrite == writesStarted) {
                spacing = false;
                drain();
            }
        }, properties.flushInterval().toNanos());
        write(List.copyOf(batch));
    }

    private void write(List<PredictionRecord> attempt) {
        writing = true;
        long started = System.nanoTime();
        Mono.defer(() -> writer.apply(attempt))
                .timeout(properties.writeTimeout(), scheduler)
                .subscribe(
                        rows -> { },
                        error -> onWorker(() -> failed(attempt.size(), error, started), 0),
                        () -> onWorker(() -> written(attempt, started), 0));
    }

    private void written(List<PredictionRecord> attempt, long started) {
        metrics.written(attempt.size(), System.nanoTime() - started);
        writing = false;
        if (failures > 0) {
            log.info("inference log writes recovered after {} failed attempts; {} predictions to write",
                    failures, buffer.held());
            failures = 0;
        }
        batch.clear();
        oldestInBatch = null;
        int left = buffer.release(attempt);
        if (full && left < properties.capacity()) {
            full = false;
            log.info("inference log accepting predictions again: {} of {} held", left, properties.capacity());
        }
        flushes.emitNext(++flushCount, Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
        drain();
    }

    private void failed(int size, Throwable error, long started) {
        metrics.writeFailed(error, System.nanoTime() - started);
        writing = false;
        failures++;
        Duration delay = backoff.delay(failures, jitter.getAsDouble());
        if (failures == 1) {
            log.warn("inference log write of {} predictions failed; {} held, retrying in {} ms, then backing off up to"
                    + " {} ms until it succeeds", size, buffer.held(), delay.toMillis(),
                    properties.retryMaxBackoff().toMillis(), error);
        } else if (failures % 20 == 0) {
            log.warn("inference log writes still failing after {} attempts; {} of {} held: {}",
                    failures, buffer.held(), properties.capacity(), error.toString());
        }
        backingOff = true;
        onWorker(() -> {
            backingOff = false;
            drain();
        }, delay.toNanos());
    }

    double oldestAgeSeconds() {
        // Queue first, batch second: the writer sets the batch's age before it polls (see drain()).
        PredictionRecord head = buffer.peek();
        Instant inBatch = oldestInBatch;
        Instant oldest = head == null ? inBatch
                : inBatch == null || head.createdAt().isBefore(inBatch) ? head.createdAt() : inBatch;
        return oldest == null ? 0 : Math.max(0, Duration.between(oldest, Instant.now()).toNanos() / 1e9);
    }

    /** Predictions accepted and not yet written. */
    public int depth() {
        return buffer.held();
    }

    // ---- lifecycle ----

    /** The writer runs from construction on; nothing to start. */
    @Override
    public void start() {
    }

    /**
     * Refuses new predictions, then waits up to {@code shutdownTimeout} for the held ones to be written (failed
     * writes keep being retried meanwhile) and logs how many could not be.
     */
    @Override
    public void stop() {
        if (!running) {
            return;
        }
        stopping = true;
        int atStop = buffer.held();
        log.info("inference log stopping: writing {} held predictions (up to {})", atStop, properties.shutdownTimeout());
        wake();
        try {
            // Nothing held once `stopping` is set means nothing ever will be: a late offer sees `stopping` and backs out.
            if (buffer.held() > 0) {
                drained.get(properties.shutdownTimeout().toNanos(), TimeUnit.NANOSECONDS);
            }
        } catch (TimeoutException e) {
            // reported below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
        int lost = buffer.held();
        if (lost > 0) {
            log.error("inference log stopped with {} predictions NOT written (oldest {} s old): they are lost",
                    lost, Math.round(oldestAgeSeconds()));
        } else {
            log.info("inference log stopped; all {} held predictions written", atStop);
        }
        running = false;
        worker.dispose();
        flushes.emitComplete(Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
        if (ownsScheduler) {
            scheduler.dispose();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}

package io.mlgateway.scoring;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Runs CPU-bound scoring off the Netty event loops, on a fixed pool sized to the cores. What may wait for
 * it is bounded in rows ({@code gateway.scoring.queue-capacity}, across all models): past that, work is refused
 * at once ({@link ScoringOverloadedException}, answered 503 + Retry-After) instead of letting memory and latency
 * grow without bound. Single rows reach it through a {@link MicroBatcher}; whole batches through {@link #submit}.
 */
@Component
public class ScoringExecutor implements DisposableBean {

    private final ThreadPoolExecutor pool;
    private final int threads;
    private final int capacity;
    private final AtomicInteger waiting = new AtomicInteger();
    private final long retryAfterSeconds;
    private final ScoringProperties.Batching batching;
    private final Scheduler timer;
    private final MeterRegistry meters;
    private final ConcurrentHashMap<String, ModelMeters> perModel = new ConcurrentHashMap<>();

    @Autowired
    public ScoringExecutor(ScoringProperties properties, MeterRegistry meters) {
        this(properties, meters, Schedulers.parallel());
    }

    /** @param timer runs the micro-batching max-wait timers (a virtual-time scheduler in tests) */
    public ScoringExecutor(ScoringProperties properties, MeterRegistry meters, Scheduler timer) {
        this.threads = properties.effectiveThreads();
        this.capacity = properties.queueCapacity();
        this.batching = properties.batching();
        this.timer = timer;
        // Tasks in the pool's queue are batch drains, at most a few per model with rows waiting, and whole-batch
        // requests; both are already bounded by 'waiting', so this bound is only a backstop.
        AtomicInteger ids = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(Math.max(16, 2 * capacity + 2 * threads)), r -> {
                    Thread t = new Thread(r, "scoring-" + ids.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
        this.pool.prestartAllCoreThreads();
        this.retryAfterSeconds = properties.retryAfterSeconds();
        this.meters = meters;
        Gauge.builder("gateway.scoring.queue.depth", waiting, AtomicInteger::get)
                .description("rows waiting to be scored").register(meters);
        Gauge.builder("gateway.scoring.queue.capacity", () -> capacity)
                .description("configured scoring queue capacity (rows)").register(meters);
        Gauge.builder("gateway.scoring.active", pool, ThreadPoolExecutor::getActiveCount)
                .description("scoring threads busy").register(meters);
    }

    /**
     * Runs one whole-batch task on a scoring thread. The Mono completes on that thread; a subscriber that cancels
     * before the task starts (client went away) costs no scoring time.
     */
    public <T> Mono<T> submit(String model, Callable<T> work) {
        ModelMeters m = meters(model);
        return Mono.create(sink -> {
            if (!tryReserve()) {
                sink.error(overloaded(m));
                return;
            }
            long enqueued = System.nanoTime();
            // Whoever comes first, the task starting or the subscriber cancelling, gives the queue room back.
            AtomicBoolean leftQueue = new AtomicBoolean();
            sink.onCancel(() -> {
                if (leftQueue.compareAndSet(false, true)) {
                    release(1);
                }
            });
            Runnable task = () -> {
                if (!leftQueue.compareAndSet(false, true)) {
                    return; // cancelled before it started
                }
                release(1);
                long started = System.nanoTime();
                m.queueWait.record(started - enqueued, TimeUnit.NANOSECONDS);
                try {
                    T result = work.call();
                    m.latency.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
                    sink.success(result);
                } catch (Throwable e) {
                    sink.error(e);
                }
            };
            try {
                pool.execute(task);
            } catch (RejectedExecutionException e) {
                if (leftQueue.compareAndSet(false, true)) {
                    release(1);
                }
                sink.error(overloaded(m));
            }
        });
    }

    /** A batcher of single rows for {@code model} with this executor's batching settings. */
    public <K, I, O> MicroBatcher<K, I, O> batcher(String model, MicroBatcher.BatchFunction<K, I, O> function) {
        return new MicroBatcher<>(model, function, this, batching, meters);
    }

    int threads() {
        return threads;
    }

    Scheduler timer() {
        return timer;
    }

    /** Claims room for one waiting row; false when the queue is full. */
    boolean tryReserve() {
        while (true) {
            int w = waiting.get();
            if (w >= capacity) {
                return false;
            }
            if (waiting.compareAndSet(w, w + 1)) {
                return true;
            }
        }
    }

    /** Rows that stopped waiting (they are being scored, or were dropped). */
    void release(int rows) {
        waiting.addAndGet(-rows);
    }

    void execute(Runnable task) {
        pool.execute(task);
    }

    ScoringOverloadedException overloaded(String model) {
        return overloaded(meters(model));
    }

    private ScoringOverloadedException overloaded(ModelMeters m) {
        m.rejected.increment();
        return new ScoringOverloadedException(retryAfterSeconds);
    }

    ModelMeters meters(String model) {
        ModelMeters m = perModel.get(model);
        return m != null ? m : perModel.computeIfAbsent(model, this::metersFor);
    }

    private ModelMeters metersFor(String model) {
        return new ModelMeters(
                Timer.builder("gateway.scoring.latency").description("time inside one scoring call")
                        .tag("model", model).publishPercentileHistogram().register(meters),
                Timer.builder("gateway.scoring.queue.wait").description("time a row waited before its scoring call")
                        .tag("model", model).publishPercentileHistogram().register(meters),
                Counter.builder("gateway.scoring.rejected").description("rows refused because the queue was full")
                        .tag("model", model).register(meters));
    }

    @Override
    public void destroy() throws InterruptedException {
        pool.shutdown();
        if (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
            pool.shutdownNow();
        }
    }

    record ModelMeters(Timer latency, Timer queueWait, Counter rejected) {
    }
}

package io.mlgateway.scoring;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Runs CPU-heavy native scoring off the Netty event loops, on a fixed pool sized to the cores with a bounded
 * queue. When the queue is full the work is refused at once ({@link ScoringOverloadedException}, answered 503 +
 * Retry-After) instead of letting memory and latency grow without bound.
 */
@Component
public class ScoringExecutor implements DisposableBean {

    private final ThreadPoolExecutor pool;
    private final long retryAfterSeconds;
    private final MeterRegistry meters;
    private final ConcurrentHashMap<String, ModelMeters> perModel = new ConcurrentHashMap<>();

    public ScoringExecutor(ScoringProperties properties, MeterRegistry meters) {
        int threads = properties.effectiveThreads();
        BlockingQueue<Runnable> queue = properties.queueCapacity() == 0
                ? new SynchronousQueue<>()
                : new ArrayBlockingQueue<>(properties.queueCapacity());
        AtomicInteger ids = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, queue, r -> {
            Thread t = new Thread(r, "scoring-" + ids.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.AbortPolicy());
        this.pool.prestartAllCoreThreads();
        this.retryAfterSeconds = properties.retryAfterSeconds();
        this.meters = meters;
        Gauge.builder("gateway.scoring.queue.depth", pool, p -> p.getQueue().size())
                .description("scoring tasks waiting for a thread").register(meters);
        Gauge.builder("gateway.scoring.queue.capacity", () -> properties.queueCapacity())
                .description("configured scoring queue capacity").register(meters);
        Gauge.builder("gateway.scoring.active", pool, ThreadPoolExecutor::getActiveCount)
                .description("scoring threads busy").register(meters);
    }

    /**
     * Runs {@code work} on a scoring thread. The Mono completes on that thread; a subscriber that cancels before
     * the task starts (client went away) costs no scoring time.
     */
    public <T> Mono<T> submit(String model, Callable<T> work) {
        ModelMeters m = perModel.computeIfAbsent(model, this::metersFor);
        return Mono.create(sink -> {
            long enqueued = System.nanoTime();
            AtomicBoolean cancelled = new AtomicBoolean();
            sink.onCancel(() -> cancelled.set(true));
            Runnable task = () -> {
                long started = System.nanoTime();
                m.queueWait.record(started - enqueued, TimeUnit.NANOSECONDS);
                if (cancelled.get()) {
                    return;
                }
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
                m.rejected.increment();
                sink.error(new ScoringOverloadedException(retryAfterSeconds));
            }
        });
    }

    private ModelMeters metersFor(String model) {
        return new ModelMeters(
                Timer.builder("gateway.scoring.latency").description("time inside the native scoring call")
                        .tag("model", model).publishPercentileHistogram().register(meters),
                Timer.builder("gateway.scoring.queue.wait").description("time a scoring task waited for a thread")
                        .tag("model", model).publishPercentileHistogram().register(meters),
                Counter.builder("gateway.scoring.rejected").description("scoring tasks refused because the queue was full")
                        .tag("model", model).register(meters));
    }

    @Override
    public void destroy() throws InterruptedException {
        pool.shutdown();
        if (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
            pool.shutdownNow();
        }
    }

    private record ModelMeters(Timer latency, Timer queueWait, Counter rejected) {
    }
}

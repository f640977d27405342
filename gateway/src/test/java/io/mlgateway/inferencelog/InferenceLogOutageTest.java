package io.mlgateway.inferencelog;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The requirement, end to end against the real PostgreSQL: predictions keep arriving at 1,000/s through
 * a 60 s database outage, every one is accepted, and after recovery the table holds exactly as many predictions as
 * were accepted. Takes about 75 s.
 */
class InferenceLogOutageTest {

    private static final int RATE = 1000; // predictions per second
    private static final int BEFORE_SECONDS = 5;
    private static final int OUTAGE_SECONDS = 60;
    private static final int AFTER_SECONDS = 5;
    private static final Duration DRAIN_LIMIT = Duration.ofSeconds(60);

    @Test
    void everyPredictionAcceptedDuringASixtySecondOutageAtAThousandPerSecondIsWritten() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        try (ProxiedDatabase database = new ProxiedDatabase()) {
            InferenceLogProperties properties = InferenceLogProperties.defaults();
            InferenceLog log = new InferenceLog(database.client, properties, meters);
            AtomicInteger maxDepth = new AtomicInteger();
            AtomicLong restoredAt = new AtomicLong(Long.MAX_VALUE);
            AtomicLong caughtUpAt = new AtomicLong(Long.MAX_VALUE);
            AtomicLong resumedAt = new AtomicLong(Long.MAX_VALUE);
            AtomicLong flushedAtRestore = new AtomicLong(Long.MAX_VALUE);
            Counter flushed = meters.get("gateway.inferencelog.flushed").counter();
            sampler.scheduleAtFixedRate(() -> {
                int depth = log.depth();
                maxDepth.accumulateAndGet(depth, Math::max);
                long now = System.nanoTime();
                if (flushed.count() > flushedAtRestore.get() && resumedAt.get() == Long.MAX_VALUE) {
                    resumedAt.set(now); // first write to land after the restore
                }
                // caught up: the backlog is gone and only what arrives meanwhile waits (less than one batch)
                if (now > restoredAt.get() && depth < 100 && caughtUpAt.get() == Long.MAX_VALUE) {
                    caughtUpAt.set(now);
                }
            }, 10, 10, TimeUnit.MILLISECONDS);

            int total = (BEFORE_SECONDS + OUTAGE_SECONDS + AFTER_SECONDS) * RATE;
            int cutAt = BEFORE_SECONDS * RATE;
            int restoreAt = (BEFORE_SECONDS + OUTAGE_SECONDS) * RATE;
            long intervalNanos = TimeUnit.SECONDS.toNanos(1) / RATE;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(total / RATE + 30);
            long start = System.nanoTime();
            long cutNanos = 0;
            int accepted = 0;
            for (int i = 0; i < total; i++) {
                if (i == cutAt) {
                    database.proxy.cut();
                    cutNanos = System.nanoTime();
                } else if (i == restoreAt) {
                    flushedAtRestore.set((long) flushed.count());
                    database.proxy.restore();
                    restoredAt.set(System.nanoTime());
                }
                long due = start + i * intervalNanos;
                long ahead = due - System.nanoTime();
                if (ahead > 0) {
                    LockSupport.parkNanos(ahead);
                }
                if (log.offer(ProxiedDatabase.record())) {
                    accepted++;
                }
                assertThat(System.nanoTime()).as("offering fell far behind 1,000/s").isLessThan(deadline);
            }
            long offeredFor = System.nanoTime() - start;
            long outageNanos = restoredAt.get() - cutNanos;

            long drainDeadline = System.nanoTime() + DRAIN_LIMIT.toNanos();
            while (log.depth() > 0 && System.nanoTime() < drainDeadline) {
                Thread.sleep(20);
            }
            long drainedAt = System.nanoTime();
            sampler.shutdown();
            long rows = database.rows();

            double failed = meters.get("gateway.inferencelog.failed").counters().stream().mapToDouble(Counter::count).sum();
            long inserts = meters.get("gateway.inferencelog.flush.duration").tag("outcome", "success").timer().count();
            double largestBatch = meters.get("gateway.inferencelog.flush.batch.size").summary().max();
            System.out.printf("""
                    InferenceLogOutageTest:
                      offered %d at %d/s over %.1f s; accepted %d, refused %d
                      outage (proxy cut) %.1f s; largest backlog %d predictions
                      after restore: first write landed %.2f s later, backlog cleared %.2f s later
                      all rows present %.2f s after the last offer
                      rows %d; failed write attempts %.0f (%s); successful INSERTs %d, largest batch %.0f
                    """,
                    total, RATE, offeredFor / 1e9, accepted, total - accepted,
                    outageNanos / 1e9, maxDepth.get(),
                    (resumedAt.get() - restoredAt.get()) / 1e9, (caughtUpAt.get() - restoredAt.get()) / 1e9,
                    (drainedAt - start - offeredFor) / 1e9,
                    rows, failed, meters.get("gateway.inferencelog.failed").counters().stream()
                            .map(c -> c.getId().getTag("reason") + "=" + (long) c.count()).toList(),
                    inserts, largestBatch);

            assertThat(accepted).as("accepted").isEqualTo(total);
            // the next retry comes within retryMaxBackoff of the restore; the backlog then drains in seconds
            Duration catchUp = properties.retryMaxBackoff().plusSeconds(10);
            assertThat(caughtUpAt.get() - restoredAt.get()).as("backlog cleared within " + catchUp + " of restore")
                    .isLessThan(catchUp.toNanos());
            assertThat(outageNanos).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(OUTAGE_SECONDS) - 100_000_000L);
            assertThat(log.depth()).as("still held " + DRAIN_LIMIT + " after restore").isZero();
            assertThat(rows).as("rows written").isEqualTo(accepted);
            assertThat(meters.get("gateway.inferencelog.flushed").counter().count()).isEqualTo(accepted);
            assertThat(maxDepth.get()).as("the outage's backlog").isGreaterThan(OUTAGE_SECONDS * RATE * 9 / 10);
            assertThat(failed).isPositive();
            assertThat(meters.get("gateway.inferencelog.rejected").counter().count()).isZero();
            assertThat(meters.get("gateway.inferencelog.queue.depth").gauge().value()).isZero();
            assertThat(largestBatch).isEqualTo(1000);
            // about one INSERT per flush interval (50 ms) while healthy, full batches while catching up
            assertThat(inserts).isLessThan(accepted / 20);
            log.stop();
        } finally {
            sampler.shutdownNow();
        }
    }
}

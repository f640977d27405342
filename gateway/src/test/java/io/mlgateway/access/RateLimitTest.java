package io.mlgateway.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The limiter on a clock the test moves (nanoseconds), so every figure is exact. */
class RateLimitTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void aQuietKeyMaySendItsBurstThenOnePerInterval() {
        RateLimit limit = new RateLimit(10, Duration.ofSeconds(1));
        long now = 5 * SECOND;
        for (int i = 0; i < 10; i++) {
            assertThat(limit.tryAcquire(now)).as("request %d of the burst", i).isZero();
        }
        long wait = limit.tryAcquire(now);
        assertThat(wait).as("the 11th waits one interval").isEqualTo(SECOND / 10);
        assertThat(limit.tryAcquire(now + wait - 1)).isPositive();
        assertThat(limit.tryAcquire(now + wait)).isZero();
        assertThat(limit.tryAcquire(now + wait)).isEqualTo(SECOND / 10);
    }

    @Test
    void overTimeAdmitsExactlyTheRate() {
        RateLimit limit = new RateLimit(50, Duration.ofSeconds(1));
        int admitted = 0;
        // 1,000 requests/s offered for 10 s, one every millisecond.
        for (long t = 0; t < 10 * SECOND; t += SECOND / 1000) {
            if (limit.tryAcquire(t) == 0) {
                admitted++;
            }
        }
        assertThat(admitted).as("50 of burst + 50/s over the rest").isBetween(50 + 50 * 10 - 1, 50 + 50 * 10);
    }

    @Test
    void refusedRequestsCostNothing() {
        RateLimit limit = new RateLimit(1, Duration.ofSeconds(1));
        assertThat(limit.tryAcquire(0)).isZero();
        for (int i = 0; i < 1000; i++) {
            assertThat(limit.tryAcquire(SECOND / 2)).isEqualTo(SECOND / 2);
        }
        assertThat(limit.tryAcquire(SECOND)).as("a client that waits as told gets through").isZero();
    }

    @Test
    void aBurstShorterThanOneIntervalStillAdmitsTheRate() {
        RateLimit limit = new RateLimit(2, Duration.ofMillis(100));
        assertThat(limit.tryAcquire(0)).isZero();
        assertThat(limit.tryAcquire(SECOND / 2)).isZero();
        assertThat(limit.tryAcquire(SECOND)).isZero();
        assertThat(limit.tryAcquire(SECOND)).isPositive();
    }

    @Test
    void concurrentCallersNeverGetMoreThanTheBurst() throws Exception {
        RateLimit limit = new RateLimit(1000, Duration.ofSeconds(1));
        AtomicInteger admitted = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        for (int t = 0; t < 8; t++) {
            pool.submit(() -> {
                start.await();
                for (int i = 0; i < 10_000; i++) {
                    if (limit.tryAcquire(42 * SECOND) == 0) {
                        admitted.incrementAndGet();
                    }
                }
                return null;
            });
        }
        start.countDown();
        pool.shutdown();
        assertThat(pool.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(admitted.get()).as("80,000 tries at one instant").isEqualTo(1000);
    }
}

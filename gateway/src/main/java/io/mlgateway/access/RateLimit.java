package io.mlgateway.access;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A key's request-rate limit, as the generic cell rate algorithm: one number, the theoretical arrival time of the
 * next request, advanced by one interval per admitted request with a compare-and-set (no lock, no timer, no
 * per-request allocation). A key that was quiet may send a burst of {@code rate × burst} requests at once;
 * a refused request costs nothing, so a client that backs off as told gets through.
 */
final class RateLimit {

    private final int rate;
    private final long interval;
    private final long tolerance;
    private final AtomicLong theoreticalArrival = new AtomicLong(Long.MIN_VALUE);

    RateLimit(int requestsPerSecond, java.time.Duration burst) {
        this.rate = requestsPerSecond;
        this.interval = Math.max(1, 1_000_000_000L / requestsPerSecond);
        // A burst shorter than one interval would refuse a key's every second request at exactly its rate.
        this.tolerance = Math.max(burst.toNanos(), interval) - interval;
    }

    int rate() {
        return rate;
    }

    /** 0 when the request at {@code now} (nanoseconds) is admitted, else how many nanoseconds until it would be. */
    long tryAcquire(long now) {
        while (true) {
            long tat = theoreticalArrival.get();
            long next = Math.max(tat, now) + interval;
            long wait = next - now - tolerance - interval;
            if (wait > 0) {
                return wait;
            }
            if (theoreticalArrival.compareAndSet(tat, next)) {
                return 0;
            }
        }
    }
}

package io.mlgateway.inferencelog;

import java.time.Duration;

/**
 * How long the inference log waits before retrying a failed write: exponential from {@code min}, capped at
 * {@code max}, and jittered down by up to half so that several gateways do not hit a recovering database in step.
 * Never below {@code min} nor above {@code max}, so a recovered database is written to again within {@code max}.
 */
record RetryBackoff(Duration min, Duration max) {

    /**
     * @param failures consecutive failed attempts so far (1 for the first retry)
     * @param random   uniform in [0, 1): 0 gives the un-jittered delay
     */
    Duration delay(int failures, double random) {
        long minNanos = min.toNanos();
        long maxNanos = max.toNanos();
        int doublings = Math.min(Math.max(failures, 1) - 1, 62);
        // min * 2^doublings, saturating instead of overflowing for long outages
        long base = doublings >= Long.numberOfLeadingZeros(minNanos) - 1 ? maxNanos : Math.min(maxNanos, minNanos << doublings);
        long jittered = base - (long) (base * 0.5 * random);
        return Duration.ofNanos(Math.max(minNanos, Math.min(maxNanos, jittered)));
    }
}

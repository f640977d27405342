package io.mlgateway.inferencelog;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Sizing and timing of the inference log's buffer and writer. See docs/INFERENCE_LOG.md for how they trade off.
 *
 * @param capacity        predictions held at most, waiting or being written; past it predictions are refused
 *                        (503) rather than answered unlogged. 200,000 absorbs a 200 s database outage at
 *                        1,000 predictions/s in about 60 MB of heap
 * @param batchSize       predictions written by one INSERT at most
 * @param flushInterval   least time between the starts of two writes, unless a full batch is waiting: a
 *                        prediction waits at most this long (plus a write in flight) while the database is up, a
 *                        quiet log writes at once, a busy one commits once per interval
 * @param retryMinBackoff wait before retrying the first failed write; doubles per further failure
 * @param retryMaxBackoff cap of that wait: once the database is back, writing resumes within this time
 * @param writeTimeout    longest one INSERT may take before it counts as failed and is retried (a database that
 *                        stops answering without closing the connection would otherwise stall the log)
 * @param shutdownTimeout longest a graceful shutdown waits for the buffer to be written
 */
@ConfigurationProperties("gateway.inference-log")
public record InferenceLogProperties(int capacity, int batchSize, Duration flushInterval, Duration retryMinBackoff,
        Duration retryMaxBackoff, Duration writeTimeout, Duration shutdownTimeout) {

    public InferenceLogProperties {
        if (capacity < 0 || batchSize < 0) {
            throw new IllegalArgumentException("gateway.inference-log capacity and batch-size must not be negative");
        }
        if (capacity == 0) {
            capacity = 200_000;
        }
        if (batchSize == 0) {
            batchSize = 1000;
        }
        flushInterval = positiveOr(flushInterval, Duration.ofMillis(50), "flush-interval");
        retryMinBackoff = positiveOr(retryMinBackoff, Duration.ofMillis(100), "retry-min-backoff");
        retryMaxBackoff = positiveOr(retryMaxBackoff, Duration.ofSeconds(5), "retry-max-backoff");
        writeTimeout = positiveOr(writeTimeout, Duration.ofSeconds(10), "write-timeout");
        shutdownTimeout = positiveOr(shutdownTimeout, Duration.ofSeconds(10), "shutdown-timeout");
        if (retryMaxBackoff.compareTo(retryMinBackoff) < 0) {
            throw new IllegalArgumentException("gateway.inference-log.retry-max-backoff must not be below retry-min-backoff");
        }
    }

    /** Every value at its default. */
    public static InferenceLogProperties defaults() {
        return new InferenceLogProperties(0, 0, null, null, null, null, null);
    }

    private static Duration positiveOr(Duration value, Duration fallback, String key) {
        if (value == null) {
            return fallback;
        }
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException("gateway.inference-log." + key + " must be positive");
        }
        return value;
    }
}

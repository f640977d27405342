package io.mlgateway.inferencelog;

import static io.mlgateway.shared.config.PropertyChecks.atLeast;
import static io.mlgateway.shared.config.PropertyChecks.check;
import static io.mlgateway.shared.config.PropertyChecks.positive;

import io.mlgateway.shared.config.PropertyDefaults;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Sizing and timing of the inference log's buffer and writer: every rentals prediction goes to
 * rental_predictions. See docs/INFERENCE_LOG.md for how they trade off.
 *
 * @param capacity        predictions held at most, waiting or being written; past it predictions are refused
 *                        (503) rather than answered unlogged. 200,000 absorbs a 200 s database outage at
 *                        1,000 predictions/s in about 60 MB of heap
 * @param batchSize       predictions written by one INSERT at most
 * @param flushInterval   least time between the starts of two writes, unless a full batch is waiting: a
 *                        prediction waits at most this long (plus a write in flight) while the database is up, a
 *                        quiet log writes at once, a busy one commits once per interval
 * @param retryMinBackoff wait before retrying the first failed write; doubles per further failure
 * @param retryMaxBackoff cap of that wait, not below retry-min-backoff: once the database is back, writing resumes
 *                        within this time
 * @param writeTimeout    longest one INSERT may take before it counts as failed and is retried (a database that
 *                        stops answering without closing the connection would otherwise stall the log)
 * @param shutdownTimeout longest a graceful shutdown waits for the buffer to be written; keep it under
 *                        spring.lifecycle.timeout-per-shutdown-phase (30s)
 */
@ConfigurationProperties(InferenceLogProperties.PREFIX)
public record InferenceLogProperties(
        @DefaultValue("200000") int capacity,
        @DefaultValue("1000") int batchSize,
        @DefaultValue("50ms") Duration flushInterval,
        @DefaultValue("100ms") Duration retryMinBackoff,
        @DefaultValue("5s") Duration retryMaxBackoff,
        @DefaultValue("10s") Duration writeTimeout,
        @DefaultValue("10s") Duration shutdownTimeout) {

    public static final String PREFIX = "gateway.inference-log";

    public InferenceLogProperties {
        atLeast(PREFIX + ".capacity", capacity, 1);
        atLeast(PREFIX + ".batch-size", batchSize, 1);
        positive(PREFIX + ".flush-interval", flushInterval);
        positive(PREFIX + ".retry-min-backoff", retryMinBackoff);
        positive(PREFIX + ".retry-max-backoff", retryMaxBackoff);
        check(retryMaxBackoff.compareTo(retryMinBackoff) >= 0, PREFIX + ".retry-max-backoff",
                "must not be below " + PREFIX + ".retry-min-backoff (" + retryMinBackoff + "), was " + retryMaxBackoff);
        positive(PREFIX + ".write-timeout", writeTimeout);
        positive(PREFIX + ".shutdown-timeout", shutdownTimeout);
    }

    /** Every value at its default. */
    public static InferenceLogProperties defaults() {
        return PropertyDefaults.of(InferenceLogProperties.class);
    }
}

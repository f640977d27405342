package io.mlgateway.inferencelog;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTimeoutException;
import io.r2dbc.spi.R2dbcTransientResourceException;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.DoubleSupplier;
import java.util.function.IntSupplier;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.dao.TransientDataAccessResourceException;

/** The inference log's meters ({@code gateway.inferencelog.*}); docs/INFERENCE_LOG.md says what each tells. */
final class InferenceLogMetrics {

    private final Counter flushed;
    private final Counter rejected;
    private final Map<String, Counter> failed;
    private final Timer writeSucceeded;
    private final Timer writeFailed;
    private final DistributionSummary batchSizes;

    InferenceLogMetrics(MeterRegistry meters, IntSupplier held, int capacity, DoubleSupplier oldestAgeSeconds) {
        Gauge.builder("gateway.inferencelog.queue.depth", held::getAsInt)
                .description("predictions accepted and not yet written (waiting or being written)").register(meters);
        Gauge.builder("gateway.inferencelog.queue.capacity", () -> capacity)
                .description("predictions the inference log holds at most before refusing more").register(meters);
        Gauge.builder("gateway.inferencelog.oldest.age", oldestAgeSeconds::getAsDouble).baseUnit("seconds")
                .description("age of the oldest prediction not yet written; grows while writes fail").register(meters);
        this.flushed = Counter.builder("gateway.inferencelog.flushed").baseUnit("predictions")
                .description("predictions written to the database").register(meters);
        this.rejected = Counter.builder("gateway.inferencelog.rejected").baseUnit("predictions")
                .description("predictions refused because the buffer was full (or the log stopping)").register(meters);
        this.failed = Map.of(
                "timeout", failedCounter(meters, "timeout"),
                "unavailable", failedCounter(meters, "unavailable"),
                "error", failedCounter(meters, "error"));
        this.writeSucceeded = flushTimer(meters, "success");
        this.writeFailed = flushTimer(meters, "failure");
        this.batchSizes = DistributionSummary.builder("gateway.inferencelog.flush.batch.size").baseUnit("predictions")
                .description("predictions per successful INSERT").register(meters);
    }

    private static Counter failedCounter(MeterRegistry meters, String reason) {
        return Counter.builder("gateway.inferencelog.failed").tag("reason", reason)
                .description("failed write attempts (each is retried; no prediction is dropped)").register(meters);
    }

    private static Timer flushTimer(MeterRegistry meters, String outcome) {
        return Timer.builder("gateway.inferencelog.flush.duration").tag("outcome", outcome)
                .description("time of one batch INSERT").register(meters);
    }

    void written(int predictions, long nanos) {
        writeSucceeded.record(nanos, TimeUnit.NANOSECONDS);
        flushed.increment(predictions);
        batchSizes.record(predictions);
    }

    void writeFailed(Throwable error, long nanos) {
        writeFailed.record(nanos, TimeUnit.NANOSECONDS);
        failed.get(reason(error)).increment();
    }

    void rejected(int predictions) {
        rejected.increment(predictions);
    }

    /** A low-cardinality cause for the failed counter: what an operator checks first differs for each. */
    static String reason(Throwable error) {
        for (Throwable e = error; e != null; e = e.getCause()) {
            if (e instanceof TimeoutException || e instanceof R2dbcTimeoutException
                    || e instanceof QueryTimeoutException) {
                return "timeout";
            }
            if (e instanceof DataAccessResourceFailureException || e instanceof TransientDataAccessResourceException
                    || e instanceof R2dbcNonTransientResourceException || e instanceof R2dbcTransientResourceException
                    || e instanceof IOException) {
                return "unavailable";
            }
        }
        return "error";
    }
}

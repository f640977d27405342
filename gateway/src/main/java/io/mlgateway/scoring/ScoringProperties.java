package io.mlgateway.scoring;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.ConstructorBinding;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Sizing of the scoring pool and of micro-batching.
 *
 * @param threads           scoring threads; 0 means one per available core (scoring is CPU-bound, more
 *                          threads than cores only adds context switches)
 * @param queueCapacity     rows waiting to be scored, across all models; beyond it requests are shed with 503.
 *                          At least 1: every row waits in the queue, however briefly, before its batch takes it
 * @param retryAfterSeconds value of the Retry-After header on 503
 * @param batching          how concurrent single-row requests are gathered into one scoring call
 */
@ConfigurationProperties("gateway.scoring")
public record ScoringProperties(int threads, int queueCapacity, long retryAfterSeconds, @DefaultValue Batching batching) {

    @ConstructorBinding
    public ScoringProperties {
        if (threads < 0 || retryAfterSeconds < 0) {
            throw new IllegalArgumentException("gateway.scoring values must not be negative");
        }
        if (queueCapacity < 1) {
            throw new IllegalArgumentException("gateway.scoring.queue-capacity must be at least 1 (got " + queueCapacity
                    + "): rows are queued before their batch takes them, so 0 would refuse every request");
        }
        if (retryAfterSeconds == 0) {
            retryAfterSeconds = 1;
        }
        if (batching == null) {
            batching = new Batching(64, Duration.ofNanos(250_000));
        }
    }

    public ScoringProperties(int threads, int queueCapacity, long retryAfterSeconds) {
        this(threads, queueCapacity, retryAfterSeconds, null);
    }

    public int effectiveThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    /**
     * @param maxBatchSize most rows in one scoring call (1 turns batching off: every row is its own call)
     * @param maxWait      longest a row waits for companions while its model is already scoring a batch; a row
     *                     that finds its model idle never waits
     */
    public record Batching(@DefaultValue("64") int maxBatchSize, @DefaultValue("250us") Duration maxWait) {

        public Batching {
            if (maxBatchSize < 1) {
                throw new IllegalArgumentException("gateway.scoring.batching.max-batch-size must be at least 1");
            }
            if (maxWait == null || maxWait.isNegative()) {
                throw new IllegalArgumentException("gateway.scoring.batching.max-wait must not be negative");
            }
        }
    }
}

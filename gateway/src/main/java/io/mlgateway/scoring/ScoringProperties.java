package io.mlgateway.scoring;

import static io.mlgateway.shared.config.PropertyChecks.atLeast;
import static io.mlgateway.shared.config.PropertyChecks.notNegative;
import static io.mlgateway.shared.config.PropertyChecks.required;

import io.mlgateway.shared.config.PropertyDefaults;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.ConstructorBinding;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Sizing of the scoring pool and of micro-batching.
 *
 * @param threads           scoring threads; 0 means one per available core (scoring is CPU-bound, more
 *                          threads than cores only adds context switches)
 * @param queueCapacity     rows waiting to be scored, across all models; beyond it requests are shed with 503 and
 *                          Retry-After. At least 1: every row waits in the queue, however briefly, before its batch
 *                          takes it
 * @param retryAfterSeconds value of the Retry-After header on 503, at least 1
 * @param batching          how concurrent single-row requests are gathered into one native scoring call
 *                          (docs/BENCHMARKS.md)
 */
@ConfigurationProperties(ScoringProperties.PREFIX)
public record ScoringProperties(
        @DefaultValue("0") int threads,
        @DefaultValue("4096") int queueCapacity,
        @DefaultValue("1") long retryAfterSeconds,
        @DefaultValue Batching batching) {

    public static final String PREFIX = "gateway.scoring";

    @ConstructorBinding
    public ScoringProperties {
        atLeast(PREFIX + ".threads", threads, 0);
        atLeast(PREFIX + ".queue-capacity", queueCapacity, 1);
        atLeast(PREFIX + ".retry-after-seconds", retryAfterSeconds, 1);
        required(PREFIX + ".batching", batching);
    }

    /** With batching at its defaults. */
    public ScoringProperties(int threads, int queueCapacity, long retryAfterSeconds) {
        this(threads, queueCapacity, retryAfterSeconds, Batching.defaults());
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
            atLeast(PREFIX + ".batching.max-batch-size", maxBatchSize, 1);
            notNegative(PREFIX + ".batching.max-wait", maxWait);
        }

        /** Every value at its default. */
        public static Batching defaults() {
            return PropertyDefaults.of(Batching.class);
        }
    }
}

package io.mlgateway.retrain;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;
import org.springframework.stereotype.Component;

/**
 * The retrain story, told twice: as structured log events (JSON fields {@code event}, {@code user_id} and each
 * step's figures, so Loki can filter on them) and as metrics (no user labels: cardinality).
 */
@Component
public class RetrainEvents {

    private static final Logger log = LoggerFactory.getLogger("retrain");

    /** Steps timed per retrain; "total" is the whole cycle of a successful retrain. */
    private static final List<String> STEPS = List.of("read", "fit", "store", "cache_evict", "notify", "total");

    private final DistributionSummary samples;
    private final Map<String, Timer> steps = new HashMap<>();
    private final Counter succeeded;
    private final Counter rejectedCount;
    private final Counter failed;
    private final Counter conflicts;
    private final Counter busy;
    private final Map<String, Counter> outboxFailures = new HashMap<>();
    private final DistributionSummary liveMae;
    private final Counter judgedBetter;
    private final Counter judgedWorse;

    /**
     * Every meter is registered here, up front, with each of its label values: a series that only appears after
     * the first failure would leave dashboards empty and rate()-based alerts blind until then.
     */
    public RetrainEvents(MeterRegistry meters) {
        this.samples = DistributionSummary.builder("retrainer.samples").description("samples used per fit")
                .publishPercentileHistogram().register(meters);
        for (String step : STEPS) {
            steps.put(step, Timer.builder("retrainer.step.duration").description("duration of each retrain step")
                    .tag("step", step).publishPercentileHistogram().register(meters));
        }
        this.succeeded = retrains(meters, "success");
        this.rejectedCount = retrains(meters, "rejected");
        this.failed = retrains(meters, "failed");
        this.conflicts = retrains(meters, "conflict");
        this.busy = retrains(meters, "busy");
        this.liveMae = DistributionSummary.builder("retrainer.live.mae")
                .description("MAE of each champion's served predictions on the actuals that triggered its user's retrain")
                .serviceLevelObjectives(10, 20, 30, 40, 50, 75, 100, 150, 200).register(meters);
        this.judgedBetter = judged(meters, "better");
        this.judgedWorse = judged(meters, "worse");
        for (String stage : List.of("cache_evict", "notify")) {
            outboxFailures.put(stage, Counter.builder("retrainer.outbox.failures")
                    .description("failed attempts to evict or announce a stored version (retried)")
                    .tag("stage", stage).register(meters));
        }
    }

    private static Counter judged(MeterRegistry meters, String verdict) {
        return Counter.builder("retrainer.champions.judged")
                .description("promoted models judged on the actuals they served against their predecessor on the same"
                        + " rows: worse = more than retrainer.live-regression-tolerance worse")
                .tag("verdict", verdict).register(meters);
    }

    private static Counter retrains(MeterRegistry meters, String status) {
        return Counter.builder("retrainer.retrains").description("retrain cycles by outcome")
                .tag("status", status).register(meters);
    }

    private static LoggingEventBuilder info(String event, String userId) {
        return log.atInfo().addKeyValue("event", event).addKeyValue("user_id", userId);
    }

    public void check(String userId, long count, boolean due) {
        (due ? log.atInfo() : log.atDebug()).addKeyValue("event", "retrain.check").addKeyValue("user_id", userId)
                .addKeyValue("count", count).log("{} new actuals", count);
    }

    public void read(String userId, int rows, long readMs) {
        step("read", readMs);
        info("retrain.read", userId).addKeyValue("rows", rows).addKeyValue("read_ms", readMs)
                .log("read {} rows in {} ms", rows, readMs);
    }

    public void fit(String userId, int samplesUsed, long processingMs, int trees, boolean rebuilt,
            double championMae, double challengerMae, boolean accepted) {
        step("fit", processingMs);
        samples.record(samplesUsed);
        info("retrain.fit", userId).addKeyValue("samples_used", samplesUsed)
                .addKeyValue("processing_time_ms", processingMs).addKeyValue("trees", trees)
                .addKeyValue("rebuilt", rebuilt).addKeyValue("holdout_mae_champion", championMae)
                .addKeyValue("holdout_mae_challenger", challengerMae).addKeyValue("promoted", accepted)
                .log("fitted on {} samples in {} ms", samplesUsed, processingMs);
    }

    /**
     * How the champion did on the new actuals it served, against its predecessor on the same rows. Recorded over all
     * users (no per-user label): the share judged worse is what the live-regression alert watches.
     */
    public void live(String userId, long champion, ModelFitter.LiveErrors live, boolean regressed) {
        if (live.actuals() == 0) {
            return;
        }
        liveMae.record(live.champion());
        if (!Double.isNaN(live.predecessor())) {
            (regressed ? judgedWorse : judgedBetter).increment();
        }
        (regressed ? log.atWarn() : log.atInfo()).addKeyValue("event", "retrain.live_quality")
                .addKeyValue("user_id", userId).addKeyValue("version", champion)
                .addKeyValue("live_actuals", live.actuals()).addKeyValue("live_mae", live.champion())
                .addKeyValue("live_mae_predecessor", Double.isNaN(live.predecessor()) ? null : live.predecessor())
                .addKeyValue("regressed", regressed)
                .log("version {} served {} actuals at MAE {}", champion, live.actuals(), live.champion());
    }

    /** A challenger stored as rejected: the champion keeps serving. */
    public void rejected(String userId, long version, long champion, String reason, long storeMs) {
        step("store", storeMs);
        info("retrain.rejected", userId).addKeyValue("version", version).addKeyValue("champion_version", champion)
                .addKeyValue("reason", reason).addKeyValue("store_ms", storeMs)
                .log("challenger {} rejected: {}", version, reason);
    }

    public void store(String userId, long version, Long parent, long storeMs) {
        step("store", storeMs);
        info("retrain.store", userId).addKeyValue("version", version).addKeyValue("parent_version", parent)
                .addKeyValue("store_ms", storeMs).log("stored version {}", version);
    }

    public void cacheEvict(String userId, String key, long removed, long evictMs) {
        step("cache_evict", evictMs);
        info("retrain.cache_evict", userId).addKeyValue("key", key).addKeyValue("removed", removed)
                .addKeyValue("evict_ms", evictMs).log("deleted {}", key);
    }

    public void notified(String userId, String topic, String status, Long version, long notifyMs) {
        step("notify", notifyMs);
        info("retrain.notify", userId).addKeyValue("topic", topic).addKeyValue("status", status)
                .addKeyValue("version", version).addKeyValue("notify_ms", notifyMs)
                .log("announced {} on {}", status, topic);
    }

    /** A retrain cycle that stored a model: promoted, or rejected in favour of the champion. */
    public void finished(String userId, boolean promoted, long totalMs) {
        step("total", totalMs);
        (promoted ? succeeded : rejectedCount).increment();
    }

    public void failed(String userId, String reason) {
        failed.increment();
        log.atWarn().addKeyValue("event", "retrain.failed").addKeyValue("user_id", userId)
                .addKeyValue("reason", reason).log("retrain failed: {}", reason);
    }

    /** Another retrainer instance holds the user: it does this retrain (no fit here, nothing wasted). */
    public void busy(String userId) {
        busy.increment();
        log.debug("retrain of {} skipped: another retrainer is retraining this user", userId);
    }

    public void conflict(String userId, String reason) {
        conflicts.increment();
        info("retrain.conflict", userId).addKeyValue("reason", reason).log("another writer won: {}", reason);
    }

    public void publishFailed(String stage, String error) {
        Counter counter = outboxFailures.get(stage);
        if (counter == null) {
            throw new IllegalArgumentException("unknown outbox stage '" + stage + "'");
        }
        counter.increment();
        log.atWarn().addKeyValue("event", "retrain.outbox_retry").addKeyValue("stage", stage)
                .addKeyValue("error", error).log("announcement not sent yet ({}), will retry: {}", stage, error);
    }

    private void step(String step, long millis) {
        steps.get(step).record(Duration.ofMillis(millis));
    }
}

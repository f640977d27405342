package io.mlgateway.retrain;

import io.mlgateway.core.training.BoosterTrainer;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * @param threshold           new actuals that trigger a user's retrain (the customer's 50)
 * @param maxSamples          new actuals read per retrain at most (the rest wait for the next one)
 * @param concurrency         users retrained at once (each fit takes one core)
 * @param sweepInterval       safety-net scan for users due, for missed notifications and restarts
 * @param roundsPerUpdate     trees added by one continued fit
 * @param maxTrees            cap: an update that would exceed it rebuilds from scratch instead (at least
 *                            {@link BoosterTrainer#BASE_ROUNDS}, the size of a rebuilt model)
 * @param rebuildWindow       a rebuild trains on the 2011 base rows plus this many of the user's latest actuals
 * @param holdoutFraction     share of the new samples kept out of the fit to validate it
 * @param maxMaeRatio         the new model's holdout MAE may be at most this times the current model's
 * @param failureCoolDown     after a failed retrain, the user is not retried before this
 * @param outboxInterval      how often unsent announcements are retried
 */
@ConfigurationProperties("retrainer")
public record RetrainProperties(int threshold, int maxSamples, int concurrency, Duration sweepInterval,
        int roundsPerUpdate, int maxTrees, int rebuildWindow, double holdoutFraction, double maxMaeRatio,
        Duration failureCoolDown, Duration outboxInterval) {

    public RetrainProperties {
        threshold = threshold > 0 ? threshold : 50;
        maxSamples = maxSamples > 0 ? maxSamples : 5000;
        concurrency = concurrency > 0 ? concurrency : Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
        sweepInterval = sweepInterval != null ? sweepInterval : Duration.ofSeconds(30);
        roundsPerUpdate = roundsPerUpdate > 0 ? roundsPerUpdate : 10;
        maxTrees = maxTrees > 0 ? maxTrees : 400;
        rebuildWindow = rebuildWindow > 0 ? rebuildWindow : 2000;
        holdoutFraction = holdoutFraction > 0 && holdoutFraction < 1 ? holdoutFraction : 0.2;
        maxMaeRatio = maxMaeRatio > 0 ? maxMaeRatio : 1.5;
        failureCoolDown = failureCoolDown != null ? failureCoolDown : Duration.ofMinutes(5);
        outboxInterval = outboxInterval != null ? outboxInterval : Duration.ofSeconds(2);
        if (maxTrees <= roundsPerUpdate) {
            throw new IllegalArgumentException("retrainer.max-trees must exceed retrainer.rounds-per-update");
        }
        // A rebuild always makes BoosterTrainer.BASE_ROUNDS trees: under a lower cap every rebuilt model would
        // exceed it (and every retrain rebuild again), so model size would not be bounded by max-trees at all.
        if (maxTrees < BoosterTrainer.BASE_ROUNDS) {
            throw new IllegalArgumentException("retrainer.max-trees must be at least " + BoosterTrainer.BASE_ROUNDS
                    + ", the size of a model rebuilt from scratch");
        }
    }
}

package io.mlgateway.retrain;

import io.mlgateway.shared.training.BoosterTrainer;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * @param threshold           new actuals that trigger a user's retrain (the customer's 50)
 * @param maxSamples          new actuals read per retrain at most (the rest wait for the next one)
 * @param concurrency         users retrained at once (each fit takes one core)
 * @param sweepInterval       safety-net scan for users due, for missed notifications and restarts
 * @param policy              how the next model is fitted ({@link UpdatePolicy})
 * @param ownTrees            {@link UpdatePolicy#RESIDUAL}: the user's own trees, refitted on every update (the cap
 *                            on what a user's model adds to the shared base)
 * @param treeDepth           {@link UpdatePolicy#RESIDUAL}: depth of the user's own trees
 * @param learningRate        {@link UpdatePolicy#RESIDUAL}: learning rate of the user's own trees
 * @param window              latest actuals a residual refit or a rebuild trains on
 * @param roundsPerUpdate     {@link UpdatePolicy#CONTINUE}: trees added by one continued fit
 * @param maxTrees            {@link UpdatePolicy#CONTINUE}: an update that would exceed it rebuilds from scratch
 *                            instead (at least {@link BoosterTrainer#BASE_ROUNDS}, the size of a rebuilt model)
 * @param holdoutFraction     share of the new actuals kept out of the fit to judge the challenger
 * @param maxMaeRatio         promotion: the challenger's held-out MAE may be at most this times the champion's
 *                            (1.0: it must be at least as good); otherwise it is stored as rejected
 * @param liveRegressionTolerance a champion whose MAE on the actuals it served exceeds its predecessor's on the same
 *                            rows by more than this (relative) counts as a live regression (metric and alert)
 * @param failureCoolDown     after a failed retrain, the user is not retried before this
 * @param outboxInterval      how often unsent announcements are retried
 * @param drift               drift detection ({@link Drift})
 */
@ConfigurationProperties("retrainer")
public record RetrainProperties(int threshold, int maxSamples, int concurrency, Duration sweepInterval,
        UpdatePolicy policy, int ownTrees, int treeDepth, double learningRate, int window,
        int roundsPerUpdate, int maxTrees, double holdoutFraction, double maxMaeRatio, double liveRegressionTolerance,
        Duration failureCoolDown, Duration outboxInterval, Drift drift) {

    /**
     * Drift of a user's requests from its model's training reference (population stability index, the largest over
     * the features), checked for users with a model of their own who made requests recently.
     *
     * @param threshold      PSI above which the user's model is refitted (once per crossing)
     * @param interval       how often active users are checked
     * @param active         users who made a request within this are checked
     * @param recentRequests the user's latest requests (since its model was stored) compared with the reference
     * @param minRequests    fewer requests than this since the model was stored: not checked yet
     * @param minActuals     a drift retrain needs at least this many new actuals (fewer than the usual threshold)
     */
    public record Drift(double threshold, Duration interval, Duration active, int recentRequests, int minRequests,
            int minActuals) {

        public Drift {
            threshold = threshold > 0 ? threshold : 0.2;
            interval = interval != null ? interval : Duration.ofMinutes(5);
            active = active != null ? active : Duration.ofHours(1);
            recentRequests = recentRequests > 0 ? recentRequests : 500;
            minRequests = minRequests > 0 ? minRequests : 100;
            minActuals = minActuals > 0 ? minActuals : 10;
            if (minRequests > recentRequests) {
                throw new IllegalArgumentException("retrainer.drift.min-requests must not exceed recent-requests");
            }
        }
    }

    public RetrainProperties {
        threshold = threshold > 0 ? threshold : 50;
        maxSamples = maxSamples > 0 ? maxSamples : 5000;
        concurrency = concurrency > 0 ? concurrency : Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
        sweepInterval = sweepInterval != null ? sweepInterval : Duration.ofSeconds(30);
        policy = policy != null ? policy : UpdatePolicy.RESIDUAL;
        ownTrees = ownTrees > 0 ? ownTrees : 50;
        treeDepth = treeDepth > 0 ? treeDepth : 6;
        learningRate = learningRate > 0 ? learningRate : 0.1;
        window = window > 0 ? window : 4000;
        roundsPerUpdate = roundsPerUpdate > 0 ? roundsPerUpdate : 10;
        maxTrees = maxTrees > 0 ? maxTrees : 400;
        holdoutFraction = holdoutFraction > 0 && holdoutFraction < 1 ? holdoutFraction : 0.2;
        maxMaeRatio = maxMaeRatio > 0 ? maxMaeRatio : 1.3;
        liveRegressionTolerance = liveRegressionTolerance > 0 ? liveRegressionTolerance : 0.1;
        failureCoolDown = failureCoolDown != null ? failureCoolDown : Duration.ofMinutes(5);
        outboxInterval = outboxInterval != null ? outboxInterval : Duration.ofSeconds(2);
        drift = drift != null ? drift : new Drift(0, null, null, 0, 0, 0);
        new BoosterTrainer.Params(treeDepth, learningRate); // validates both, naming the value
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

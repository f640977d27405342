package io.mlgateway.retrain;

import static io.mlgateway.shared.config.PropertyChecks.accepted;
import static io.mlgateway.shared.config.PropertyChecks.atLeast;
import static io.mlgateway.shared.config.PropertyChecks.between;
import static io.mlgateway.shared.config.PropertyChecks.check;
import static io.mlgateway.shared.config.PropertyChecks.notNegative;
import static io.mlgateway.shared.config.PropertyChecks.positive;
import static io.mlgateway.shared.config.PropertyChecks.required;
import static io.mlgateway.shared.config.PropertyChecks.strictlyBetween;

import io.mlgateway.shared.config.PropertyDefaults;
import io.mlgateway.shared.training.BoosterTrainer;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param threshold           new actuals that trigger a user's retrain (the customer's 50)
 * @param maxSamples          new actuals read per retrain at most (the rest wait for the next one)
 * @param concurrency         users retrained at once (each fit takes one core)
 * @param sweepInterval       safety-net scan for users due, for missed notifications and restarts
 * @param policy              how the next model is fitted: residual, continue or rebuild (UpdatePolicy;
 *                            replay figures for each in docs/RETRAIN.md)
 * @param ownTrees            residual policy: the user's own trees, refitted on every update (the cap
 *                            on what a user's model adds to the shared base)
 * @param treeDepth           residual policy: depth of the user's own trees, 1 to 16
 * @param learningRate        residual policy: learning rate of the user's own trees, above 0 and at
 *                            most 1
 * @param window              latest actuals a residual refit or a rebuild trains on
 * @param roundsPerUpdate     continue policy: trees added by one continued fit
 * @param maxTrees            continue policy: an update that would exceed it rebuilds from scratch
 *                            instead (at least 200, BoosterTrainer.BASE_ROUNDS: the size of a rebuilt model)
 * @param holdoutFraction     share of the new actuals (the newest) kept out of the fit to judge the challenger,
 *                            above 0 and below 1
 * @param maxMaeRatio         promotion: the challenger's held-out MAE may be at most this times the champion's
 *                            (1.0: it must be at least as good); otherwise it is stored as rejected. The default
 *                            is above 1 because 10 held-out hours are noisy (docs/RETRAIN.md)
 * @param liveRegressionTolerance a champion whose MAE on the actuals it served exceeds its predecessor's on the same
 *                            rows by more than this (relative) counts as a live regression (metric and alert)
 * @param failureCoolDown     after a failed retrain, the user is not retried before this
 * @param outboxInterval      how often unsent announcements are retried
 * @param drift               drift detection
 */
@ConfigurationProperties(RetrainProperties.PREFIX)
public record RetrainProperties(
        @DefaultValue("50") int threshold,
        @DefaultValue("5000") int maxSamples,
        @DefaultValue("1") int concurrency,
        @DefaultValue("30s") Duration sweepInterval,
        @DefaultValue("residual") UpdatePolicy policy,
        @DefaultValue("50") int ownTrees,
        @DefaultValue("6") int treeDepth,
        @DefaultValue("0.1") double learningRate,
        @DefaultValue("4000") int window,
        @DefaultValue("10") int roundsPerUpdate,
        @DefaultValue("400") int maxTrees,
        @DefaultValue("0.2") double holdoutFraction,
        @DefaultValue("1.3") double maxMaeRatio,
        @DefaultValue("0.1") double liveRegressionTolerance,
        @DefaultValue("5m") Duration failureCoolDown,
        @DefaultValue("2s") Duration outboxInterval,
        @DefaultValue Drift drift) {

    public static final String PREFIX = "retrainer";

    /**
     * Drift of a user's requests from its model's training reference (population stability index, the largest over
     * the features), checked for users with a model of their own who made requests recently.
     *
     * @param threshold      PSI above which the user's model is refitted (once per crossing)
     * @param interval       how often active users are checked
     * @param active         users who made a request within this are checked
     * @param recentRequests the user's latest requests (since its model was stored) compared with the reference
     * @param minRequests    fewer requests than this since the model was stored: not checked yet; at most
     *                       recent-requests
     * @param minActuals     a drift retrain needs at least this many new actuals (fewer than the usual threshold); it
     *                       fits on the new actuals there are
     */
    public record Drift(
            @DefaultValue("0.2") double threshold,
            @DefaultValue("5m") Duration interval,
            @DefaultValue("1h") Duration active,
            @DefaultValue("500") int recentRequests,
            @DefaultValue("100") int minRequests,
            @DefaultValue("10") int minActuals) {

        public Drift {
            positive(PREFIX + ".drift.threshold", threshold);
            positive(PREFIX + ".drift.interval", interval);
            positive(PREFIX + ".drift.active", active);
            atLeast(PREFIX + ".drift.recent-requests", recentRequests, 1);
            between(PREFIX + ".drift.min-requests", minRequests, 1, recentRequests);
            atLeast(PREFIX + ".drift.min-actuals", minActuals, 1);
        }

        /** Every value at its default. */
        public static Drift defaults() {
            return PropertyDefaults.of(Drift.class);
        }
    }

    public RetrainProperties {
        atLeast(PREFIX + ".threshold", threshold, 1);
        atLeast(PREFIX + ".max-samples", maxSamples, 1);
        atLeast(PREFIX + ".concurrency", concurrency, 1);
        positive(PREFIX + ".sweep-interval", sweepInterval);
        required(PREFIX + ".policy", policy);
        atLeast(PREFIX + ".own-trees", ownTrees, 1);
        // BoosterTrainer owns the rules for these two; the checks only name the key.
        BoosterTrainer.Params base = BoosterTrainer.Params.BASE;
        accepted(PREFIX + ".tree-depth", () -> new BoosterTrainer.Params(treeDepth, base.eta()));
        accepted(PREFIX + ".learning-rate", () -> new BoosterTrainer.Params(base.maxDepth(), learningRate));
        atLeast(PREFIX + ".window", window, 1);
        atLeast(PREFIX + ".rounds-per-update", roundsPerUpdate, 1);
        check(maxTrees > roundsPerUpdate, PREFIX + ".max-trees",
                "must exceed " + PREFIX + ".rounds-per-update (" + roundsPerUpdate + "), was " + maxTrees);
        // A rebuild always makes BoosterTrainer.BASE_ROUNDS trees: under a lower cap every rebuilt model would
        // exceed it (and every retrain rebuild again), so model size would not be bounded by max-trees at all.
        check(maxTrees >= BoosterTrainer.BASE_ROUNDS, PREFIX + ".max-trees", "must be at least "
                + BoosterTrainer.BASE_ROUNDS + ", the size of a model rebuilt from scratch, was " + maxTrees);
        strictlyBetween(PREFIX + ".holdout-fraction", holdoutFraction, 0, 1);
        positive(PREFIX + ".max-mae-ratio", maxMaeRatio);
        positive(PREFIX + ".live-regression-tolerance", liveRegressionTolerance);
        notNegative(PREFIX + ".failure-cool-down", failureCoolDown);
        positive(PREFIX + ".outbox-interval", outboxInterval);
        required(PREFIX + ".drift", drift);
    }
}

package io.mlgateway.loadtests.replay;

import io.mlgateway.retrain.RetrainProperties;
import io.mlgateway.retrain.UpdatePolicy;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The update policies the replay compares, by name: each one the retrainer's own settings
 * ({@link RetrainProperties}), so a row of the table is a configuration a user can deploy.
 */
final class ReplayPolicies {

    /** No gate: every challenger is promoted. */
    static final double NO_GATE = 1e9;

    private ReplayPolicies() {
    }

    /** The retrainer's defaults (application.yml), the policy served. */
    static RetrainProperties deployed() {
        return residual(50, 6, 0.1, 4000, 1.3);
    }

    static Map<String, RetrainProperties> all() {
        Map<String, RetrainProperties> policies = new LinkedHashMap<>();
        policies.put("customer: continue 1 tree / 50 actuals, no gate", cont(1, NO_GATE));
        policies.put("continue 10 trees / 50, rebuild at 400 (previous default)", cont(10, 1.5));
        policies.put("residual 50 trees d6 window 2000, gate 1.0", residual(50, 6, 0.1, 2000, 1.0));
        policies.put("residual 50 trees d6 window 2000, no gate", residual(50, 6, 0.1, 2000, NO_GATE));
        policies.put("residual 50 trees d6 window 2000, gate 1.1", residual(50, 6, 0.1, 2000, 1.1));
        policies.put("residual 50 trees d6 window 2000, gate 1.2", residual(50, 6, 0.1, 2000, 1.2));
        policies.put("residual 50 trees d6 window 2000, gate 1.3", residual(50, 6, 0.1, 2000, 1.3));
        policies.put("residual 50 trees d6 window 3000, gate 1.2", residual(50, 6, 0.1, 3000, 1.2));
        policies.put("residual 50 trees d6 window 3000, gate 1.3", residual(50, 6, 0.1, 3000, 1.3));
        policies.put("residual 50 trees d6 window 4000, gate 1.3 (default)", deployed());
        policies.put("residual 50 trees d7 window 2000, gate 1.2", residual(50, 7, 0.1, 2000, 1.2));
        policies.put("residual 50 trees d6 eta 0.15 window 2000, gate 1.2", residual(50, 6, 0.15, 2000, 1.2));
        policies.put("residual 50 trees d4 window 2000, gate 1.0", residual(50, 4, 0.1, 2000, 1.0));
        policies.put("residual 50 trees d5 window 4000, gate 1.3", residual(50, 5, 0.1, 4000, 1.3));
        policies.put("residual 50 trees d4 window 4000, gate 1.3", residual(50, 4, 0.1, 4000, 1.3));
        policies.put("residual 30 trees d6 eta 0.15 window 4000, gate 1.3", residual(30, 6, 0.15, 4000, 1.3));
        policies.put("residual 30 trees d6 window 1000, gate 1.0", residual(30, 6, 0.1, 1000, 1.0));
        policies.put("residual 100 trees d6 window all, gate 1.0", residual(100, 6, 0.1, 100_000, 1.0));
        policies.put("rebuild every 50 (2011 + window 2000), gate 1.0", rebuild(2000, 1.0));
        return policies;
    }

    static RetrainProperties residual(int ownTrees, int depth, double eta, int window, double gate) {
        return props(UpdatePolicy.RESIDUAL, ownTrees, depth, eta, window, 10, gate);
    }

    static RetrainProperties cont(int rounds, double gate) {
        return props(UpdatePolicy.CONTINUE, 50, 6, 0.1, 2000, rounds, gate);
    }

    static RetrainProperties rebuild(int window, double gate) {
        return props(UpdatePolicy.REBUILD, 50, 6, 0.1, window, 10, gate);
    }

    private static RetrainProperties props(UpdatePolicy policy, int ownTrees, int depth, double eta, int window,
            int rounds, double gate) {
        return new RetrainProperties(50, 5000, 1, Duration.ofSeconds(30), policy, ownTrees, depth, eta, window, rounds,
                400, 0.2, gate, 0.1, Duration.ofMinutes(5), Duration.ofSeconds(2), RetrainProperties.Drift.defaults());
    }
}

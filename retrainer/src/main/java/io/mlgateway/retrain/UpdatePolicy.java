package io.mlgateway.retrain;

/**
 * How a user's next model is fitted from its actuals (replay figures for each in docs/RETRAIN.md).
 */
public enum UpdatePolicy {

    /**
     * The shared base stays frozen and the user's own residual trees are replaced: {@code own-trees} trees refitted
     * on the user's latest {@code window} actuals over the base model's prediction. Model size is bounded by
     * {@code own-trees} and the fit forgets what no longer holds. The default: best measured error.
     */
    RESIDUAL,

    /**
     * The customer's original policy: {@code rounds-per-update} more trees fitted on the new actuals over the current
     * model's prediction and appended; once that would pass {@code max-trees}, a standalone rebuild on the 2011
     * rows plus the latest {@code window} actuals.
     */
    CONTINUE,

    /** A standalone model refitted from scratch on every update, on the 2011 rows plus the latest {@code window}. */
    REBUILD
}

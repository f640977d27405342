package io.mlgateway.modelstore;

import io.mlgateway.shared.trees.TreeModel;

/**
 * A served model in its stored form, which keeps what explanations need and the served form leaves out (each node's
 * cover): read on demand, for the request that asks, never held.
 *
 * @param model the model version served
 * @param base  the base it is layered on, or null for a model that stands alone
 */
public record Explainable(TreeModel model, TreeModel base) {

    /**
     * Each feature's contribution to the prediction for the row at {@code offset} (TreeSHAP), then the bias: their sum
     * is the prediction; xgboost's {@code predictContrib} layout.
     */
    public double[] contributions(float[] rows, int offset) {
        return model.contributions(base, rows, offset);
    }
}

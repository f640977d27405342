package io.mlgateway.shared.trees;

/**
 * A rentals model as stored and shared between the retrainer, the registry, Redis and the gateway: either
 * <ul>
 *   <li><b>standalone</b>: {@code intercept + trees} (the base model, or a model rebuilt from scratch), or</li>
 *   <li><b>layered</b>: the model version {@code baseVersion}'s prediction {@code + trees}, where {@code trees} are
 *       this model's own, fitted on the base's margin. A model continued from the base, or from a user's previous
 *       layered version, is layered on the same base: it carries only the trees it added.</li>
 * </ul>
 * Encoded by {@code ModelFormat}; turned into something that scores by {@link #bind}; explained by
 * {@link #contributions} (its trees keep each node's cover, which the scoring form leaves out).
 *
 * @param baseVersion the model whose prediction this one starts from; null for a standalone model
 * @param intercept   the starting margin of a standalone model; 0 for a layered one
 */
public record TreeModel(Long baseVersion, float intercept, TreeEnsemble trees) {

    public TreeModel {
        if (trees == null) {
            throw new IllegalArgumentException("trees are required");
        }
        if (baseVersion != null && intercept != 0f) {
            throw new IllegalArgumentException("a layered model starts from its base's prediction, not an intercept");
        }
        if (Float.isNaN(intercept) || Float.isInfinite(intercept)) {
            throw new IllegalArgumentException("intercept must be finite");
        }
    }

    public static TreeModel standalone(float intercept, TreeEnsemble trees) {
        return new TreeModel(null, intercept, trees);
    }

    public static TreeModel layered(long baseVersion, TreeEnsemble trees) {
        return new TreeModel(baseVersion, 0f, trees);
    }

    public boolean isLayered() {
        return baseVersion != null;
    }

    /** The same model with {@code more} trees after its own. */
    public TreeModel append(TreeEnsemble more) {
        return new TreeModel(baseVersion, intercept, trees.concat(more));
    }

    /**
     * The model ready to score.
     *
     * @param base the scoring form of version {@link #baseVersion()} for a layered model; null for a standalone one
     */
    public ScoringModel bind(ScoringModel base) {
        if (isLayered() != (base != null)) {
            throw new IllegalArgumentException(isLayered() ? "model layered on version " + baseVersion
                    + " needs that base to score" : "a standalone model has no base");
        }
        return base == null ? ScoringModel.standalone(intercept, trees) : ScoringModel.layered(base, trees);
    }

    /**
     * Why this model predicts what it does for the row at {@code offset}: its exact SHAP values (path-dependent
     * TreeSHAP, see {@code TreeShap}), as xgboost4j's {@code Booster.predictContrib} computes them. The features'
     * contributions in feature order, then the bias: the prediction expected over the training data (the intercept
     * plus every tree's cover-weighted mean leaf). A layered model explains its full prediction: the base's trees
     * count as its own. Everything adds up to the prediction, up to float rounding (some 1e-4 on predictions of
     * hundreds).
     *
     * <p>Computed and returned in double. Cost O(T·L·D²) for T trees of L leaves and depth D; allocates a few small
     * arrays per call and shares nothing, so any thread may call it.
     *
     * @param base the model version {@link #baseVersion()} for a layered model; null for a standalone one
     * @throws IllegalStateException if a tree is deeper than 64 ({@code TreeShap.MAX_DEPTH}) or a split has no cover
     */
    public double[] contributions(TreeModel base, float[] rows, int offset) {
        if (isLayered() != (base != null)) {
            throw new IllegalArgumentException(isLayered() ? "model layered on version " + baseVersion
                    + " needs that base to be explained" : "a standalone model has no base");
        }
        if (base != null && base.isLayered()) {
            throw new IllegalArgumentException("a base model stands alone");
        }
        TreeShap shap = new TreeShap(trees.features());
        shap.addBias(intercept);
        shap.addTrees(trees, rows, offset);
        if (base != null) {
            shap.addBias(base.intercept);
            shap.addTrees(base.trees, rows, offset);
        }
        return shap.values();
    }
}

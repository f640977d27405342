package io.mlgateway.shared.trees;

/**
 * A rentals model as stored and shared between the retrainer, the registry, Redis and the gateway: either
 * <ul>
 *   <li><b>standalone</b>: {@code intercept + trees} (the base model, or a model rebuilt from scratch), or</li>
 *   <li><b>layered</b>: the model version {@code baseVersion}'s prediction {@code + trees}, where {@code trees} are
 *       this model's own, fitted on the base's margin. A model continued from the base, or from a user's previous
 *       layered version, is layered on the same base: it carries only the trees it added.</li>
 * </ul>
 * Encoded by {@code ModelFormat}; turned into something that scores by {@link #bind}.
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
}

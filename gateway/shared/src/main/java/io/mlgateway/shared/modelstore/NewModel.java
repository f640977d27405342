package io.mlgateway.shared.modelstore;

import io.mlgateway.shared.trees.TreeModel;

/**
 * A model about to be stored; the registry assigns its version.
 *
 * @param numTrees    trees evaluated per row, a base's included
 * @param baseVersion the model this one is layered on, or null when it stands alone
 * @param ownTrees    trees stored with this version (its memory cost when its base is already loaded)
 */
public record NewModel(String userId, Long parentVersion, String format, byte[] bytes, int numTrees, Long baseVersion,
        int ownTrees, String metrics) {

    /**
     * {@code model} encoded in the current format.
     *
     * @param baseTrees trees of the base it is layered on (0 for a standalone model)
     */
    public static NewModel of(String userId, Long parentVersion, TreeModel model, int baseTrees, String metrics) {
        if (!model.isLayered() && baseTrees != 0) {
            throw new IllegalArgumentException("a standalone model has no base trees");
        }
        int own = model.trees().trees();
        return new NewModel(userId, parentVersion, ModelFormat.TREES, ModelFormat.encode(model), baseTrees + own,
                model.baseVersion(), own, metrics);
    }
}

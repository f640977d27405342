package io.mlgateway.shared.modelstore;

import io.mlgateway.shared.trees.TreeModel;
import java.time.OffsetDateTime;

/**
 * One stored model version.
 *
 * @param version       global, increasing; names the model on its own
 * @param userId        owner, or {@link ModelRegistry#BASE_USER} for the shared base model
 * @param parentVersion the version it replaced (continued from, or for a rebuild the one it was rebuilt after);
 *                      null only for the base model
 * @param numTrees      trees evaluated per row, those of the base it is layered on included
 * @param baseVersion   the model it is layered on (its own trees add to that model's prediction); null if it stands
 *                      alone
 * @param ownTrees      trees stored with this version
 * @param metrics       JSON object of validation figures
 */
public record ModelRecord(
        long version,
        String userId,
        Long parentVersion,
        String format,
        byte[] bytes,
        int numTrees,
        Long baseVersion,
        int ownTrees,
        String metrics,
        String status,
        OffsetDateTime createdAt) {

    public boolean isBase() {
        return ModelRegistry.BASE_USER.equals(userId);
    }

    /** The stored model, decoded (see {@link ModelFormat}). */
    public TreeModel model() {
        return ModelFormat.decode(format, bytes);
    }

    /** The same record without its (large) bytes, for metadata answers. */
    public ModelRecord withoutBytes() {
        return new ModelRecord(version, userId, parentVersion, format, new byte[0], numTrees, baseVersion, ownTrees,
                metrics, status, createdAt);
    }
}

package io.mlgateway.core.modelstore;

import java.time.OffsetDateTime;

/**
 * One stored model version.
 *
 * @param version       global, increasing; names the model on its own
 * @param userId        owner, or {@link ModelRegistry#BASE_USER} for the shared base model
 * @param parentVersion the version it replaced (continued from, or for a rebuild the one it was rebuilt after);
 *                      null only for the base model
 * @param metrics       JSON object of validation figures
 */
public record ModelRecord(
        long version,
        String userId,
        Long parentVersion,
        String format,
        byte[] bytes,
        int numTrees,
        String metrics,
        String status,
        OffsetDateTime createdAt) {

    public boolean isBase() {
        return ModelRegistry.BASE_USER.equals(userId);
    }

    /** The same record without its (large) bytes, for metadata answers. */
    public ModelRecord withoutBytes() {
        return new ModelRecord(version, userId, parentVersion, format, new byte[0], numTrees, metrics, status, createdAt);
    }
}

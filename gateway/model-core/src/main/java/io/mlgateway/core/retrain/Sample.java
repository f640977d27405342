package io.mlgateway.core.retrain;

import java.util.UUID;

/** One actual joined with the feature vector its prediction was made from (model order). */
public record Sample(long actualId, UUID requestId, float[] features, float actualValue) {
}

package io.mlgateway.retrain;

import java.util.UUID;

/**
 * One actual joined with the prediction it answers: the feature vector (model order), the prediction served and the
 * version that served it.
 */
public record Sample(long actualId, UUID requestId, float[] features, float actualValue, double prediction,
        long modelVersion) {

    /** A sample whose served prediction is not known (the version is then 0, which no stored model has). */
    public static Sample unlogged(long actualId, UUID requestId, float[] features, float actualValue) {
        return new Sample(actualId, requestId, features, actualValue, Double.NaN, 0);
    }
}

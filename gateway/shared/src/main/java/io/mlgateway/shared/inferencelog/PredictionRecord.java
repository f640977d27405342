package io.mlgateway.shared.inferencelog;

import io.mlgateway.shared.features.RentalFeatures;
import java.time.Instant;
import java.util.UUID;

/**
 * One answered prediction, as logged to {@code rental_predictions}.
 *
 * @param modelVersion the registry version that produced it (the base model's version for users without one)
 * @param features     the vector in {@link RentalFeatures#NAMES} order, exactly as scored
 */
public record PredictionRecord(
        UUID requestId, String userId, long modelVersion, float[] features, double prediction, Instant createdAt) {

    public PredictionRecord {
        if (features.length != RentalFeatures.COUNT) {
            throw new IllegalArgumentException("expected " + RentalFeatures.COUNT + " features, got " + features.length);
        }
    }
}

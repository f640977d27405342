package io.mlgateway.shared.training;

import io.mlgateway.shared.features.RentalFeatures;
import java.util.List;

/** Row-major feature matrix in {@link RentalFeatures} order plus targets, as XGBoost takes them. */
public record TrainingSet(float[] features, float[] labels) {

    public TrainingSet {
        if (features.length != labels.length * RentalFeatures.COUNT) {
            throw new IllegalArgumentException("features hold " + features.length + " values for " + labels.length
                    + " rows of " + RentalFeatures.COUNT);
        }
    }

    public int rows() {
        return labels.length;
    }

    public static TrainingSet of(List<BikeSharingData.Hour> hours) {
        float[] labels = new float[hours.size()];
        for (int i = 0; i < hours.size(); i++) {
            labels[i] = hours.get(i).count();
        }
        return new TrainingSet(RentalFeatures.rowMajor(hours.stream().map(BikeSharingData.Hour::features).toList()),
                labels);
    }
}

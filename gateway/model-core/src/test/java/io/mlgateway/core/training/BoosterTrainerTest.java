package io.mlgateway.core.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.core.features.RentalFeatures;
import io.mlgateway.core.modelstore.ModelFormat;
import java.util.List;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BoosterTrainerTest {

    private static List<BikeSharingData.Hour> hours;
    private static Booster small;

    @BeforeAll
    static void train() {
        hours = BikeSharingData.load();
        small = BoosterTrainer.trainFromScratch(TrainingSet.of(hours.subList(0, 2000)), 20);
    }

    @AfterAll
    static void free() {
        small.dispose();
    }

    @Test
    void loadsAllHoursWithFeaturesInModelOrder() {
        assertThat(hours).hasSize(17_379);
        assertThat(hours.stream().filter(BikeSharingData.Hour::isYear2011)).hasSize(8_645);
        // First row of hour.csv: 2011-01-01, season 1, yr 0, mnth 1, hr 0, … temp 0.24, … cnt 16.
        BikeSharingData.Hour first = hours.get(0);
        assertThat(first.date()).isEqualTo("2011-01-01");
        assertThat(first.features()[RentalFeatures.indexOf("season")]).isEqualTo(1f);
        assertThat(first.features()[RentalFeatures.indexOf("hr")]).isEqualTo(0f);
        assertThat(first.features()[RentalFeatures.indexOf("temp")]).isEqualTo(0.24f);
        assertThat(first.features()[RentalFeatures.indexOf("windspeed")]).isEqualTo(0f);
        assertThat(first.count()).isEqualTo(16f);
    }

    @Test
    void inplacePredictionEqualsXgboostsDMatrixPrediction() throws Exception {
        TrainingSet sample = TrainingSet.of(hours.subList(5000, 5064));
        float[] ours = BoosterTrainer.predict(small, sample.features(), sample.rows());
        DMatrix matrix = new DMatrix(sample.features(), sample.rows(), RentalFeatures.COUNT, Float.NaN);
        try {
            float[][] reference = small.predict(matrix);
            for (int i = 0; i < sample.rows(); i++) {
                assertThat(ours[i]).isEqualTo(reference[i][0]);
            }
        } finally {
            matrix.dispose();
        }
    }

    @Test
    void continuingAddsTreesToACopyAndLeavesTheStartUntouched() {
        TrainingSet more = TrainingSet.of(hours.subList(2000, 2050));
        float[] before = BoosterTrainer.predict(small, more.features(), more.rows());
        Booster next = BoosterTrainer.continueFrom(small, more, 5);
        try {
            assertThat(BoosterTrainer.trees(small)).isEqualTo(20);
            assertThat(BoosterTrainer.trees(next)).isEqualTo(25);
            assertThat(BoosterTrainer.predict(small, more.features(), more.rows())).containsExactly(before);
            // Fitting on these rows moves predictions towards them.
            assertThat(BoosterTrainer.meanAbsoluteError(next, more)).isLessThan(BoosterTrainer.meanAbsoluteError(small, more));
        } finally {
            next.dispose();
        }
    }

    @Test
    void modelFormatRoundTripsLosslessly() {
        TrainingSet sample = TrainingSet.of(hours.subList(100, 110));
        Booster copy = ModelFormat.deserialize(ModelFormat.XGBOOST_UBJ, ModelFormat.serialize(small));
        try {
            assertThat(BoosterTrainer.predict(copy, sample.features(), sample.rows()))
                    .containsExactly(BoosterTrainer.predict(small, sample.features(), sample.rows()));
        } finally {
            copy.dispose();
        }
    }
}

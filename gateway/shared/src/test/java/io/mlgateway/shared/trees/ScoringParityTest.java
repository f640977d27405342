package io.mlgateway.shared.trees;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.modelstore.ModelFormat;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.shared.training.BoosterTrainer;
import io.mlgateway.shared.training.TrainingSet;
import io.mlgateway.shared.trees.XGBoostTrees;
import java.util.HashMap;
import java.util.List;
import java.util.Random;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java engine against xgboost4j on every row of hour.csv (17,379 rows), for each kind of model the system
 * stores, plus the same rows with missing values. Bound asserted: |engine - xgboost| <= 1e-6 * max(1, |xgboost|)
 * per row. (Measured: every row equal bit for bit, because the engine sums in float in XGBoost's order.) Each model
 * also goes through {@link ModelFormat} and back (and through the trees-v1 rows earlier versions stored), and scores
 * in its compact form ({@link CompactTrees}), so what is asserted is what the gateway serves.
 */
class ScoringParityTest {

    private static final double RELATIVE_BOUND = 1e-6;

    private static List<BikeSharingData.Hour> hours;
    private static float[] rows;
    private static float[] rowsWithMissing;
    private static int count;
    private static Booster base;
    private static TreeModel baseModel;
    private static ScoringModel baseScoring;

    @BeforeAll
    static void train() {
        hours = BikeSharingData.load();
        TrainingSet all = TrainingSet.of(hours);
        rows = all.features();
        count = all.rows();
        rowsWithMissing = rows.clone();
        Random random = new Random(42);
        for (int i = 0; i < count / 4; i++) {
            // A quarter of the rows lose one to three values, every feature among them.
            for (int k = random.nextInt(3); k >= 0; k--) {
                rowsWithMissing[random.nextInt(count) * RentalFeatures.COUNT + random.nextInt(RentalFeatures.COUNT)] = Float.NaN;
            }
        }
        base = BoosterTrainer.trainBooster(TrainingSet.of(BikeSharingData.where(BikeSharingData.Hour::isYear2011)),
                BoosterTrainer.BASE_ROUNDS);
        baseModel = roundTrip(XGBoostTrees.standalone(base));
        baseScoring = baseModel.bind(null);
    }

    @AfterAll
    static void free() {
        base.dispose();
    }

    @Test
    void theBaseModel() throws XGBoostError {
        assertThat(baseModel.trees().trees()).isEqualTo(200);
        assertParity(baseScoring, reference(base, rows, null), rows);
        assertParity(baseScoring, reference(base, rowsWithMissing, null), rowsWithMissing);
    }

    /** XGBoost's own continuation: its first 200 trees are the base's, so the model is the base plus 10 trees. */
    @Test
    void aModelContinuedByXgboostIsTheBasePlusTheTreesItAdded() throws XGBoostError {
        Booster continued = BoosterTrainer.continueBooster(base, TrainingSet.of(hours.subList(9000, 9050)), 10);
        try {
            TreeEnsemble all = XGBoostTrees.trees(continued);
            assertThat(all.trees()).isEqualTo(210);
            assertThat(all.slice(0, 200)).isEqualTo(baseModel.trees());
            ScoringModel layered = roundTrip(TreeModel.layered(1L, all.slice(200, 210))).bind(baseScoring);
            assertParity(layered, reference(continued, rows, null), rows);
            assertParity(layered, reference(continued, rowsWithMissing, null), rowsWithMissing);
        } finally {
            continued.dispose();
        }
    }

    /** What the retrainer does: trees fitted on the base's margin, then continued again on the new margin. */
    @Test
    void treesFittedOnTheBaseMarginTwice() throws XGBoostError {
        TrainingSet first = TrainingSet.of(hours.subList(9000, 9050));
        TrainingSet second = TrainingSet.of(hours.subList(9050, 9100));
        TreeModel v1 = TreeModel.layered(1L, BoosterTrainer.fitOnMargin(first,
                baseScoring.predictAll(first.features(), first.rows()), 10));
        ScoringModel v1Scoring = roundTrip(v1).bind(baseScoring);
        TreeModel v2 = v1.append(BoosterTrainer.fitOnMargin(second,
                v1Scoring.predictAll(second.features(), second.rows()), 10));
        ScoringModel v2Scoring = roundTrip(v2).bind(baseScoring);
        assertThat(v2.trees().trees()).isEqualTo(20);
        assertThat(v2Scoring.trees()).isEqualTo(220);

        // The reference: the boosters those fits made, predicting from the margin each was fitted on.
        Booster b1 = marginBooster(first, baseScoring);
        Booster b2 = marginBooster(second, v1Scoring);
        try {
            assertThat(XGBoostTrees.trees(b1)).isEqualTo(v1.trees());
            assertThat(XGBoostTrees.trees(b2)).isEqualTo(v2.trees().slice(10, 20));
            for (float[] data : List.of(rows, rowsWithMissing)) {
                float[] v1Reference = reference(b1, data, reference(base, data, null));
                assertParity(v1Scoring, v1Reference, data);
                assertParity(v2Scoring, reference(b2, data, v1Reference), data);
            }
        } finally {
            b1.dispose();
            b2.dispose();
        }
    }

    @Test
    void aModelRebuiltFromScratchAndA400TreeModel() throws XGBoostError {
        TrainingSet rebuild = TrainingSet.of(hours.subList(0, 10_000));
        Booster rebuilt = BoosterTrainer.trainBooster(rebuild, BoosterTrainer.BASE_ROUNDS);
        Booster big = BoosterTrainer.continueBooster(base, TrainingSet.of(hours.subList(8645, hours.size())), 200);
        try {
            ScoringModel rebuiltScoring = roundTrip(XGBoostTrees.standalone(rebuilt)).bind(null);
            assertParity(rebuiltScoring, reference(rebuilt, rows, null), rows);
            assertParity(rebuiltScoring, reference(rebuilt, rowsWithMissing, null), rowsWithMissing);
            TreeModel bigModel = roundTrip(XGBoostTrees.standalone(big));
            assertThat(bigModel.trees().trees()).isEqualTo(400);
            assertParity(bigModel.bind(null), reference(big, rows, null), rows);
            assertParity(bigModel.bind(null), reference(big, rowsWithMissing, null), rowsWithMissing);
        } finally {
            rebuilt.dispose();
            big.dispose();
        }
    }

    /** Models stored by earlier versions (XGBoost UBJ) are read and score the same. */
    @Test
    void legacyUbjModelsAreReadIntoTheEngine() throws XGBoostError {
        TreeModel legacy = ModelFormat.decode(ModelFormat.XGBOOST_UBJ, base.toByteArray("ubj"));
        assertThat(legacy.isLayered()).isFalse();
        assertThat(legacy).isEqualTo(baseModel);
        assertParity(legacy.bind(null), reference(base, rows, null), rows);
    }

    private static void assertParity(ScoringModel engine, float[] reference, float[] data) {
        float[] ours = engine.predictAll(data, count);
        int exact = 0;
        double worst = 0;
        for (int i = 0; i < count; i++) {
            double bound = RELATIVE_BOUND * Math.max(1, Math.abs(reference[i]));
            double error = Math.abs(ours[i] - reference[i]);
            assertThat(error).as("row %d: engine %s, xgboost %s", i, ours[i], reference[i]).isLessThanOrEqualTo(bound);
            worst = Math.max(worst, error);
            exact += ours[i] == reference[i] ? 1 : 0;
        }
        System.out.printf("parity over %d rows (%d trees; own trees %s): %d bit-identical, largest difference %g%n",
                count, engine.trees(), engine.ownTrees(), exact, worst);
    }

    /** xgboost4j's prediction for every row, from {@code margins} if given (else from its intercept). */
    private static float[] reference(Booster booster, float[] data, float[] margins) throws XGBoostError {
        return reference(booster, data, count, margins);
    }

    /** xgboost4j's prediction for {@code count} rows (TreeShapTest compares explanations with it too). */
    static float[] reference(Booster booster, float[] data, int count, float[] margins) throws XGBoostError {
        DMatrix matrix = new DMatrix(data, count, RentalFeatures.COUNT, Float.NaN);
        try {
            if (margins != null) {
                matrix.setBaseMargin(margins);
            }
            float[][] out = booster.predict(matrix);
            float[] flat = new float[count];
            for (int i = 0; i < count; i++) {
                flat[i] = out[i][0];
            }
            return flat;
        } finally {
            matrix.dispose();
        }
    }

    /** The booster {@link BoosterTrainer#fitOnMargin} fits, kept for xgboost4j to predict with. */
    private static Booster marginBooster(TrainingSet data, ScoringModel start) throws XGBoostError {
        DMatrix matrix = new DMatrix(data.features(), data.rows(), RentalFeatures.COUNT, Float.NaN);
        try {
            matrix.setLabel(data.labels());
            matrix.setBaseMargin(start.predictAll(data.features(), data.rows()));
            return XGBoost.train(matrix, BoosterTrainer.params(), 10, new HashMap<>(), null, null, null, 0, null);
        } finally {
            matrix.dispose();
        }
    }

    private static TreeModel roundTrip(TreeModel model) {
        TreeModel decoded = ModelFormat.decode(ModelFormat.TREES, ModelFormat.encode(model));
        assertThat(decoded).isEqualTo(model);
        assertThat(ModelFormat.decode(ModelFormat.TREES_V1, TreeEnsembleTest.treesV1(model))).isEqualTo(model);
        return decoded;
    }
}

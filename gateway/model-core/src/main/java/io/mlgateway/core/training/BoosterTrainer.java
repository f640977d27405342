package io.mlgateway.core.training;

import io.mlgateway.core.features.RentalFeatures;
import java.util.HashMap;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;

/**
 * Fits rentals boosters with xgboost4j: the base model from scratch, and per-user updates continued from a
 * current booster (the Python API's {@code xgb_model}). Training is CPU-heavy and blocking: call it from a
 * bounded worker scheduler, never from an event loop.
 */
public final class BoosterTrainer {

    /** reg:squarederror, depth 6, eta 0.1, 200 rounds: MAE figures in docs/MODELS.md. */
    public static final int BASE_ROUNDS = 200;

    private BoosterTrainer() {
    }

    static Map<String, Object> params() {
        Map<String, Object> params = new HashMap<>();
        params.put("objective", "reg:squarederror");
        params.put("max_depth", 6);
        params.put("eta", 0.1);
        params.put("seed", 0);
        // One thread: deterministic results, and training never starves the scoring pool of cores.
        params.put("nthread", 1);
        return params;
    }

    public static Booster trainFromScratch(TrainingSet data, int rounds) {
        return train(data, rounds, null);
    }

    /** Adds {@code rounds} trees to a copy of {@code start} fitted on {@code data}; {@code start} is not changed. */
    public static Booster continueFrom(Booster start, TrainingSet data, int rounds) {
        try {
            Booster copy = XGBoost.loadModel(start.toByteArray("ubj"));
            return train(data, rounds, copy);
        } catch (XGBoostError | java.io.IOException e) {
            throw new IllegalStateException("cannot copy the starting booster: " + e.getMessage(), e);
        }
    }

    private static Booster train(TrainingSet data, int rounds, Booster start) {
        DMatrix matrix = null;
        try {
            matrix = new DMatrix(data.features(), data.rows(), RentalFeatures.COUNT, Float.NaN);
            matrix.setLabel(data.labels());
            return XGBoost.train(matrix, params(), rounds, new HashMap<>(), null, null, null, 0, start);
        } catch (XGBoostError e) {
            throw new IllegalStateException("XGBoost training failed: " + e.getMessage(), e);
        } finally {
            if (matrix != null) {
                matrix.dispose();
            }
        }
    }

    /** Predictions for every row in one native call. Safe to call concurrently on one booster. */
    public static float[] predict(Booster booster, float[] rowMajorFeatures, int rows) {
        try {
            float[][] out = booster.inplace_predict(rowMajorFeatures, rows, RentalFeatures.COUNT, Float.NaN);
            float[] flat = new float[rows];
            for (int i = 0; i < rows; i++) {
                flat[i] = out[i][0];
            }
            return flat;
        } catch (XGBoostError e) {
            throw new IllegalStateException("XGBoost prediction failed: " + e.getMessage(), e);
        }
    }

    public static double meanAbsoluteError(Booster booster, TrainingSet data) {
        float[] predicted = predict(booster, data.features(), data.rows());
        double sum = 0;
        for (int i = 0; i < predicted.length; i++) {
            sum += Math.abs(predicted[i] - data.labels()[i]);
        }
        return sum / predicted.length;
    }

    public static int trees(Booster booster) {
        try {
            return booster.getNumBoostedRound();
        } catch (XGBoostError e) {
            throw new IllegalStateException(e);
        }
    }
}

package io.mlgateway.shared.training;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.trees.XGBoostTrees;
import io.mlgateway.shared.trees.ScoringModel;
import io.mlgateway.shared.trees.TreeEnsemble;
import io.mlgateway.shared.trees.TreeModel;
import java.util.HashMap;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;

/**
 * Fits rentals trees with xgboost4j and hands them over in the Java engine's form ({@link XGBoostTrees}); no
 * booster outlives a call. Two kinds of fit:
 * <ul>
 *   <li>{@link #fitStandalone}: a whole model from scratch (the base model, a rebuild);</li>
 *   <li>{@link #fitOnMargin}: new trees on top of an existing model's predictions, passed as XGBoost's base
 *       margin. This is exactly what continuing a booster does (XGBoost continues from the current model's
 *       predictions), without needing the current model as a booster: a user's next trees are fitted on the
 *       margin the Java engine computes, and appended to the user's own.</li>
 * </ul>
 * Training is CPU-heavy and blocking: call it from a bounded worker scheduler, never from an event loop.
 */
public final class BoosterTrainer {

    /** reg:squarederror, depth 6, eta 0.1, 200 rounds: MAE figures in docs/MODELS.md. */
    public static final int BASE_ROUNDS = 200;

    private BoosterTrainer() {
    }

    /**
     * Tree shape and learning rate of a fit; everything else is fixed (squared error, seed 0, one thread).
     *
     * @param maxDepth depth of each tree
     * @param eta      learning rate (shrinkage of each tree's contribution)
     */
    public record Params(int maxDepth, double eta) {

        /** The base model's: depth 6, eta 0.1. */
        public static final Params BASE = new Params(6, 0.1);

        public Params {
            if (maxDepth < 1 || maxDepth > 16) {
                throw new IllegalArgumentException("max depth must be in 1..16, was " + maxDepth);
            }
            if (!(eta > 0 && eta <= 1)) {
                throw new IllegalArgumentException("eta must be in (0, 1], was " + eta);
            }
        }

        /** XGBoost's parameter map (a fresh map each call). */
        public Map<String, Object> toMap() {
            Map<String, Object> params = new HashMap<>();
            params.put("objective", "reg:squarederror");
            params.put("max_depth", maxDepth);
            params.put("eta", eta);
            params.put("seed", 0);
            // One thread: deterministic results, and training never starves the scoring pool of cores.
            params.put("nthread", 1);
            return params;
        }
    }

    /** The base model's training parameters (a fresh map each call). */
    public static Map<String, Object> params() {
        return Params.BASE.toMap();
    }

    /** A standalone model of {@code rounds} trees fitted on {@code data}. */
    public static TreeModel fitStandalone(TrainingSet data, int rounds) {
        Booster booster = train(data, null, rounds, Params.BASE);
        try {
            return XGBoostTrees.standalone(booster);
        } finally {
            booster.dispose();
        }
    }

    /**
     * {@code rounds} new trees fitted on {@code data} starting from {@code margins}, one per row: the predictions of
     * the model they will be appended to.
     */
    public static TreeEnsemble fitOnMargin(TrainingSet data, float[] margins, int rounds) {
        return fitOnMargin(data, margins, rounds, Params.BASE);
    }

    /** {@link #fitOnMargin(TrainingSet, float[], int)} with other tree parameters. */
    public static TreeEnsemble fitOnMargin(TrainingSet data, float[] margins, int rounds, Params params) {
        if (margins.length != data.rows()) {
            throw new IllegalArgumentException(margins.length + " margins for " + data.rows() + " rows");
        }
        Booster booster = train(data, margins, rounds, params);
        try {
            return XGBoostTrees.trees(booster);
        } finally {
            booster.dispose();
        }
    }

    /**
     * A booster the caller owns (and must {@link Booster#dispose()}): xgboost4j's own model, the reference the engine
     * is checked and measured against.
     */
    public static Booster trainBooster(TrainingSet data, int rounds) {
        return train(data, null, rounds, Params.BASE);
    }

    /**
     * XGBoost's own continuation ({@code xgb_model} in Python): {@code rounds} more trees on a copy of {@code start},
     * which is left as it was. A booster the caller owns; the reference for models continued by margin.
     */
    public static Booster continueBooster(Booster start, TrainingSet data, int rounds) {
        DMatrix matrix = null;
        try {
            Booster copy = XGBoost.loadModel(start.toByteArray("ubj"));
            matrix = new DMatrix(data.features(), data.rows(), RentalFeatures.COUNT, Float.NaN);
            matrix.setLabel(data.labels());
            return XGBoost.train(matrix, params(), rounds, new HashMap<>(), null, null, null, 0, copy);
        } catch (XGBoostError | java.io.IOException e) {
            throw new IllegalStateException("XGBoost training failed: " + e.getMessage(), e);
        } finally {
            if (matrix != null) {
                matrix.dispose();
            }
        }
    }

    private static Booster train(TrainingSet data, float[] margins, int rounds, Params params) {
        DMatrix matrix = null;
        try {
            matrix = new DMatrix(data.features(), data.rows(), RentalFeatures.COUNT, Float.NaN);
            matrix.setLabel(data.labels());
            if (margins != null) {
                matrix.setBaseMargin(margins);
            }
            return XGBoost.train(matrix, params.toMap(), rounds, new HashMap<>(), null, null, null, 0, null);
        } catch (XGBoostError e) {
            throw new IllegalStateException("XGBoost training failed: " + e.getMessage(), e);
        } finally {
            if (matrix != null) {
                matrix.dispose();
            }
        }
    }

    public static double meanAbsoluteError(ScoringModel model, TrainingSet data) {
        float[] predicted = model.predictAll(data.features(), data.rows());
        double sum = 0;
        for (int i = 0; i < predicted.length; i++) {
            sum += Math.abs(predicted[i] - data.labels()[i]);
        }
        return sum / predicted.length;
    }
}

package io.mlgateway.shared.trees;

import io.mlgateway.shared.features.RentalFeatures;
import java.io.IOException;
import java.util.Set;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads the trees out of an xgboost4j booster into the Java engine's form, through XGBoost's own JSON model
 * ({@code learner.gradient_booster.model.trees}: per node its children, split feature and condition, default
 * direction and cover; a leaf's output is stored as its split condition). Only what the engine evaluates exactly
 * as XGBoost does is accepted: gbtree boosters of one output with numerical splits and an identity link.
 */
public final class XGBoostTrees {

    /** Objectives whose prediction is the raw margin. */
    private static final Set<String> IDENTITY_OBJECTIVES = Set.of("reg:squarederror", "reg:absoluteerror",
            "reg:pseudohubererror", "reg:quantileerror");
    /** Decimals kept exact, so each float is parsed once, straight to float (no rounding through double). */
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

    private XGBoostTrees() {
    }

    /** The whole booster: its intercept ({@code base_score}) and every tree. */
    public static TreeModel standalone(Booster booster) {
        JsonNode learner = learner(booster);
        return TreeModel.standalone(intercept(learner), trees(learner));
    }

    /** Every tree of the booster, without its intercept (for trees fitted on a base margin, which replaces it). */
    public static TreeEnsemble trees(Booster booster) {
        return trees(learner(booster));
    }

    /** A model stored by earlier versions as XGBoost UBJ. */
    public static TreeModel fromUbj(byte[] ubj) {
        Booster booster;
        try {
            booster = XGBoost.loadModel(ubj);
        } catch (XGBoostError | IOException e) {
            throw new IllegalArgumentException("not an XGBoost model: " + e.getMessage(), e);
        }
        try {
            return standalone(booster);
        } finally {
            booster.dispose();
        }
    }

    private static JsonNode learner(Booster booster) {
        try {
            JsonNode learner = JSON.readTree(booster.toByteArray("json")).path("learner");
            String objective = learner.path("objective").path("name").asString("");
            if (!IDENTITY_OBJECTIVES.contains(objective)) {
                throw new IllegalArgumentException("objective '" + objective + "' is not supported (identity link only)");
            }
            String kind = learner.path("gradient_booster").path("name").asString("");
            if (!"gbtree".equals(kind)) {
                throw new IllegalArgumentException("booster '" + kind + "' is not supported (gbtree only)");
            }
            if (learner.path("learner_model_param").path("num_target").asInt(1) != 1) {
                throw new IllegalArgumentException("multi-output models are not supported");
            }
            return learner;
        } catch (XGBoostError | JacksonException e) {
            throw new IllegalStateException("cannot read the booster's trees: " + e.getMessage(), e);
        }
    }

    private static float intercept(JsonNode learner) {
        // "1.4379445E2", or "[1.4379445E2]" where XGBoost writes the intercept as a vector.
        String text = learner.path("learner_model_param").path("base_score").asString("0").replaceAll("[\\[\\]]", "");
        return Float.parseFloat(text);
    }

    private static TreeEnsemble trees(JsonNode learner) {
        JsonNode model = learner.path("gradient_booster").path("model");
        int features = learner.path("learner_model_param").path("num_feature").asInt();
        if (features != RentalFeatures.COUNT) {
            throw new IllegalArgumentException("booster reads " + features + " features, rentals rows have "
                    + RentalFeatures.COUNT);
        }
        TreeEnsemble.Builder builder = TreeEnsemble.builder(features);
        for (JsonNode tree : model.path("trees")) {
            for (JsonNode type : tree.path("split_type")) {
                if (type.asInt() != 0) {
                    throw new IllegalArgumentException("categorical splits are not supported");
                }
            }
            builder.addTree(ints(tree.path("left_children")), ints(tree.path("right_children")),
                    ints(tree.path("split_indices")), floats(tree.path("split_conditions")),
                    booleans(tree.path("default_left")), floats(tree.path("sum_hessian")));
        }
        return builder.build();
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    /** XGBoost writes float32 values in their shortest decimal form: parsing as float gives the exact value back. */
    private static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = array.get(i);
            out[i] = Float.parseFloat(v.isString() ? v.asString() : v.decimalValue().toString());
        }
        return out;
    }

    private static boolean[] booleans(JsonNode array) {
        boolean[] out = new boolean[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt() != 0;
        }
        return out;
    }
}

package io.mlgateway.regno;

import ai.catboost.CatBoostError;
import ai.catboost.CatBoostModel;
import ai.catboost.CatBoostPredictions;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.springframework.core.io.Resource;

/**
 * The customer's CatBoost classifier, loaded once, with the recipe bound to the model's own feature list by name.
 * CatBoost's native evaluator is safe to call from several threads at once; {@link #close()} frees it and must
 * only run once nothing scores any more (the Spring context guarantees that by destroying scorers first).
 */
public final class RegnoModel implements AutoCloseable {

    private final CatBoostModel model;
    private final String version;
    private final List<String> featureNames;
    private final ToDoubleFunction<RegnoFeatures>[] floats;
    private final List<Function<RegnoFeatures, String>> categoricals;
    private final List<Function<RegnoFeatures, String>> texts;

    private RegnoModel(CatBoostModel model, String version) {
        this.model = model;
        this.version = version;
        this.featureNames = List.of(model.getFeatureNames());
        List<ToDoubleFunction<RegnoFeatures>> floatList = new ArrayList<>();
        List<Function<RegnoFeatures, String>> catList = new ArrayList<>();
        List<Function<RegnoFeatures, String>> textList = new ArrayList<>();
        for (CatBoostModel.Feature feature : model.getFeatures()) {
            if (feature instanceof CatBoostModel.FloatFeature) {
                place(floatList, feature, RegnoFeatureRecipe.FLOAT_FEATURES);
            } else if (feature instanceof CatBoostModel.CatFeature) {
                place(catList, feature, RegnoFeatureRecipe.CATEGORICAL_FEATURES);
            } else if (feature instanceof CatBoostModel.TextFeature) {
                place(textList, feature, RegnoFeatureRecipe.TEXT_FEATURES);
            } else {
                throw new IllegalStateException("model feature '" + feature.getName() + "' has a kind ("
                        + feature.getClass().getSimpleName() + ") the recipe cannot produce");
            }
        }
        @SuppressWarnings("unchecked")
        ToDoubleFunction<RegnoFeatures>[] floatArray = floatList.toArray(new ToDoubleFunction[0]);
        this.floats = floatArray;
        this.categoricals = List.copyOf(catList);
        this.texts = List.copyOf(textList);
    }

    public static RegnoModel load(Resource location) throws IOException {
        byte[] bytes;
        try (InputStream in = location.getInputStream()) {
            bytes = in.readAllBytes();
        }
        CatBoostModel model;
        try {
            model = CatBoostModel.loadModel(bytes);
        } catch (CatBoostError e) {
            throw new IOException("cannot load CatBoost model from " + location + ": " + e.getMessage(), e);
        }
        try {
            return new RegnoModel(model, "regno-" + sha256(bytes).substring(0, 12));
        } catch (RuntimeException e) {
            free(model);
            throw e;
        }
    }

    /** Puts the recipe's function for {@code feature} at the feature's index among its kind. */
    private static <F> void place(List<F> slots, CatBoostModel.Feature feature, Map<String, F> recipe) {
        F function = recipe.get(feature.getName());
        if (function == null) {
            throw new IllegalStateException("model expects feature '" + feature.getName()
                    + "' that the regno feature recipe does not produce");
        }
        while (slots.size() <= feature.getFeatureIndex()) {
            slots.add(null);
        }
        slots.set(feature.getFeatureIndex(), function);
    }

    /** A short content hash of the model file: changes exactly when the model does. */
    public String version() {
        return version;
    }

    /** The model's own features, in its order: what the recipe computes from a recognition. */
    public List<String> featureNames() {
        return featureNames;
    }

    public int floatFeatureCount() {
        return floats.length;
    }

    public int categoricalFeatureCount() {
        return categoricals.size();
    }

    public int textFeatureCount() {
        return texts.size();
    }

    /** Scores a batch in one native call; one probability pair per input, in order. */
    public List<RegnoPrediction> predict(List<RegnoFeatures> batch) {
        int n = batch.size();
        float[][] numeric = new float[n][floats.length];
        String[][] categorical = new String[n][categoricals.size()];
        String[][] text = new String[n][texts.size()];
        for (int row = 0; row < n; row++) {
            RegnoFeatures f = batch.get(row);
            for (int i = 0; i < floats.length; i++) {
                numeric[row][i] = (float) floats[i].applyAsDouble(f);
            }
            for (int i = 0; i < categorical[row].length; i++) {
                categorical[row][i] = categoricals.get(i).apply(f);
            }
            for (int i = 0; i < text[row].length; i++) {
                text[row][i] = texts.get(i).apply(f);
            }
        }
        CatBoostPredictions raw;
        try {
            raw = model.predict(numeric, categorical, text, null);
        } catch (CatBoostError e) {
            throw new IllegalStateException("CatBoost scoring failed: " + e.getMessage(), e);
        }
        List<RegnoPrediction> result = new ArrayList<>(n);
        for (int row = 0; row < n; row++) {
            result.add(RegnoPrediction.fromRaw(raw.get(row, 0)));
        }
        return result;
    }

    @Override
    public void close() {
        free(model);
    }

    private static void free(CatBoostModel model) {
        try {
            model.close();
        } catch (CatBoostError e) {
            throw new IllegalStateException("cannot free the CatBoost model: " + e.getMessage(), e);
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

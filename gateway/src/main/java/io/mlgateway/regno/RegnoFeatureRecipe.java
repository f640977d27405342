package io.mlgateway.regno;

import java.time.format.TextStyle;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * The data scientist's feature recipe: how each model feature is computed from a recognition, keyed by the
 * feature names stored in the model. {@link RegnoModel} binds these by name to the model's own feature list, so
 * positions are never hard-coded and a model expecting a feature this recipe lacks fails at start-up.
 */
public final class RegnoFeatureRecipe {

    /** The reference service always sent a missing value for this feature; NaN reproduces that. */
    static final String FOREIGN_SYM = "foreign_sym";

    public static final Map<String, ToDoubleFunction<RegnoFeatures>> FLOAT_FEATURES;
    public static final Map<String, Function<RegnoFeatures, String>> CATEGORICAL_FEATURES = Map.of(
            "camera_type", RegnoFeatures::cameraType,
            "camera_class", RegnoFeatures::cameraClass,
            "weekday", RegnoFeatures::weekday,
            "month", RegnoFeatures::month,
            "regno_template", RegnoFeatures::regnoTemplate,
            "regno_template_ai", RegnoFeatures::regnoTemplateAi);
    public static final Map<String, Function<RegnoFeatures, String>> TEXT_FEATURES = Map.of(
            "regno_recognize_text", RegnoFeatures::regnoRecognizeText,
            "afts_regno_ai_text", RegnoFeatures::aftsRegnoAiText);

    static {
        Map<String, ToDoubleFunction<RegnoFeatures>> floats = new LinkedHashMap<>();
        floats.put("afts_regno_ai_score", RegnoFeatures::aftsRegnoAiScore);
        floats.put("direction", RegnoFeatures::direction);
        floats.put("recognition_accuracy", RegnoFeatures::recognitionAccuracy);
        floats.put("max_sym_score", RegnoFeatures::maxSymScore);
        floats.put("min_sym_score", RegnoFeatures::minSymScore);
        floats.put("max_len_score", RegnoFeatures::maxLenScore);
        floats.put("ai_len", RegnoFeatures::aiLen);
        floats.put("cam_len", RegnoFeatures::camLen);
        for (int i = 0; i < PlateSymbols.ALPHABET.size(); i++) {
            int slot = i;
            floats.put(PlateSymbols.ALPHABET.get(i), f -> f.symbolScores()[slot]);
        }
        floats.put(FOREIGN_SYM, f -> Double.NaN);
        floats.put("hour", RegnoFeatures::hour);
        FLOAT_FEATURES = Map.copyOf(floats);
    }

    private RegnoFeatureRecipe() {
    }

    public static RegnoFeatures build(RegnoRequest r) {
        double[] charScores = orZero(r.charScores());
        double[] lengthScores = orZero(r.lengthScores());
        return new RegnoFeatures(
                r.aftsRegnoAiScore(),
                r.direction(),
                r.recognitionAccuracy(),
                max(charScores),
                min(charScores),
                max(lengthScores),
                length(r.aftsRegnoAi()),
                length(r.regnoRecognize()),
                PlateSymbols.minScores(r.aftsRegnoAi(), r.charScores()),
                r.timeCheck().getHour(),
                r.cameraType(),
                r.cameraClass(),
                r.timeCheck().getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH),
                r.timeCheck().getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH),
                PlateTemplate.of(r.regnoRecognize()).label(),
                PlateTemplate.of(r.aftsRegnoAi()).label(),
                spaced(r.regnoRecognize()),
                spaced(r.aftsRegnoAi()));
    }

    /** "А939НО196" → "А 9 3 9 Н О 1 9 6": the text features were trained on space-separated characters. */
    static String spaced(String plate) {
        return plate.codePoints().mapToObj(Character::toString).collect(Collectors.joining(" "));
    }

    /** Counts characters as the reference did (code points, not UTF-16 units). */
    private static double length(String plate) {
        return plate.codePointCount(0, plate.length());
    }

    /** An empty score list counts as [0]. */
    private static double[] orZero(double[] scores) {
        return scores.length == 0 ? new double[] {0.0} : scores;
    }

    private static double max(double[] values) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            max = Math.max(max, v);
        }
        return max;
    }

    private static double min(double[] values) {
        double min = Double.POSITIVE_INFINITY;
        for (double v : values) {
            min = Math.min(min, v);
        }
        return min;
    }
}

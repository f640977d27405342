package io.mlgateway.regno;

/**
 * The model's inputs for one recognition, computed once by {@link RegnoFeatureRecipe}; the recipe also says which
 * model feature name reads which of these values.
 *
 * @param symbolScores per-symbol min char score, in {@link PlateSymbols#ALPHABET} order
 */
public record RegnoFeatures(
        double aftsRegnoAiScore,
        double direction,
        double recognitionAccuracy,
        double maxSymScore,
        double minSymScore,
        double maxLenScore,
        double aiLen,
        double camLen,
        double[] symbolScores,
        double hour,
        String cameraType,
        String cameraClass,
        String weekday,
        String month,
        String regnoTemplate,
        String regnoTemplateAi,
        String regnoRecognizeText,
        String aftsRegnoAiText) {
}

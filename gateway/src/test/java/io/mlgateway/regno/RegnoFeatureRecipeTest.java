package io.mlgateway.regno;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDateTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RegnoFeatureRecipeTest {

    static RegnoRequest request(String camera, String ai, double[] charScores, double[] lengthScores, String time) {
        return new RegnoRequest(camera, ai, 6.4, 0.87, charScores, lengthScores, "Стационарная", "Астра-Трафик",
                LocalDateTime.parse(time.replace(' ', 'T')), 1);
    }

    private static double floatFeature(RegnoFeatures f, String name) {
        return RegnoFeatureRecipe.FLOAT_FEATURES.get(name).applyAsDouble(f);
    }

    private static String categorical(RegnoFeatures f, String name) {
        return RegnoFeatureRecipe.CATEGORICAL_FEATURES.get(name).apply(f);
    }

    @Test
    void copiesScalarsAndSummarisesScoreLists() {
        RegnoFeatures f = RegnoFeatureRecipe.build(request("А939НО196", "А939НО190",
                new double[] {0.9, 0.2, 0.7}, new double[] {0.1, 0.95, 0.3}, "2021-08-01 09:02:59"));
        assertThat(floatFeature(f, "afts_regno_ai_score")).isEqualTo(0.87);
        assertThat(floatFeature(f, "recognition_accuracy")).isEqualTo(6.4);
        assertThat(floatFeature(f, "direction")).isEqualTo(1.0);
        assertThat(floatFeature(f, "max_sym_score")).isEqualTo(0.9);
        assertThat(floatFeature(f, "min_sym_score")).isEqualTo(0.2);
        assertThat(floatFeature(f, "max_len_score")).isEqualTo(0.95);
    }

    @Test
    void emptyScoreListsCountAsZero() {
        RegnoFeatures f = RegnoFeatureRecipe.build(request("А939НО196", "А939НО190",
                new double[0], new double[0], "2021-08-01 09:02:59"));
        assertThat(floatFeature(f, "max_sym_score")).isZero();
        assertThat(floatFeature(f, "min_sym_score")).isZero();
        assertThat(floatFeature(f, "max_len_score")).isZero();
        // No pairs at all, so every symbol is absent.
        assertThat(floatFeature(f, "9")).isEqualTo(1.0);
    }

    @Test
    void lengthsCountCharactersNotBytes() {
        RegnoFeatures f = RegnoFeatureRecipe.build(request("А939НО19", "А939НО190",
                new double[] {1}, new double[] {1}, "2021-08-01 09:02:59"));
        assertThat(floatFeature(f, "ai_len")).isEqualTo(9.0);
        assertThat(floatFeature(f, "cam_len")).isEqualTo(8.0);
    }

    @Test
    void textFeaturesAreCharactersJoinedBySingleSpaces() {
        RegnoFeatures f = RegnoFeatureRecipe.build(request("А939НО196", "В1_", new double[] {1}, new double[] {1},
                "2021-08-01 09:02:59"));
        assertThat(RegnoFeatureRecipe.TEXT_FEATURES.get("regno_recognize_text").apply(f)).isEqualTo("А 9 3 9 Н О 1 9 6");
        assertThat(RegnoFeatureRecipe.TEXT_FEATURES.get("afts_regno_ai_text").apply(f)).isEqualTo("В 1 _");
        assertThat(RegnoFeatureRecipe.spaced("")).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}, {2}, hour {3}")
    @CsvSource(delimiter = '|', textBlock = """
            2021-08-01 09:02:59 | Sunday    | August    | 9
            2021-08-02 00:00:00 | Monday    | August    | 0
            2024-02-29 23:59:59 | Thursday  | February  | 23
            2021-12-31 12:30:00 | Friday    | December  | 12
            2022-01-01 07:00:00 | Saturday  | January   | 7
            """)
    void weekdayAndMonthAreEnglishFullNamesAndHourIsAFloat(String time, String weekday, String month, int hour) {
        RegnoFeatures f = RegnoFeatureRecipe.build(request("А939НО196", "А939НО190", new double[] {1}, new double[] {1}, time));
        assertThat(categorical(f, "weekday")).isEqualTo(weekday);
        assertThat(categorical(f, "month")).isEqualTo(month);
        assertThat(floatFeature(f, "hour")).isEqualTo(hour);
    }

    @Test
    void templatesComeFromEachPlateAndCameraFieldsAreCopied() {
        RegnoFeatures f = RegnoFeatureRecipe.build(request("АВ1234567", "A939HO196", new double[] {1}, new double[] {1},
                "2021-08-01 09:02:59"));
        assertThat(categorical(f, "regno_template")).isEqualTo("lk_pricep_r_transit");
        assertThat(categorical(f, "regno_template_ai")).isEqualTo("unknown"); // Latin look-alikes
        assertThat(categorical(f, "camera_type")).isEqualTo("Стационарная");
        assertThat(categorical(f, "camera_class")).isEqualTo("Астра-Трафик");
    }

    @Test
    void symbolFeaturesPairTheNeuralNetsPlateWithItsCharScores() {
        RegnoFeatures f = RegnoFeatureRecipe.build(request("Х000ХХ00", "А977", new double[] {0.9, 0.5, 0.4, 0.8},
                new double[] {1}, "2021-08-01 09:02:59"));
        assertThat(floatFeature(f, "А")).isEqualTo(0.9);
        assertThat(floatFeature(f, "7")).isEqualTo(0.4);
        assertThat(floatFeature(f, "9")).isEqualTo(0.5);
        assertThat(floatFeature(f, "Х")).isEqualTo(1.0); // only on the camera's plate, which does not count
    }

    @Test
    void foreignSymIsAlwaysMissing() {
        RegnoFeatures f = RegnoFeatureRecipe.build(request("А939НО196", "А939НО190", new double[] {1}, new double[] {1},
                "2021-08-01 09:02:59"));
        assertThat(floatFeature(f, RegnoFeatureRecipe.FOREIGN_SYM)).isNaN();
    }

    @Test
    void recipeProducesThirtyThreeFloatSixCategoricalTwoText() {
        assertThat(RegnoFeatureRecipe.FLOAT_FEATURES).hasSize(33);
        assertThat(RegnoFeatureRecipe.CATEGORICAL_FEATURES).hasSize(6);
        assertThat(RegnoFeatureRecipe.TEXT_FEATURES).hasSize(2);
    }
}

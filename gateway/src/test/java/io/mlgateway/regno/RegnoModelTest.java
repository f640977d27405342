package io.mlgateway.regno;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.ClassPathResource;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

class RegnoModelTest {

    private static RegnoModel model;
    private static final JsonMapper json = JsonMapper.builder().build();
    private static final RegnoRequestParser parser = new RegnoRequestParser(json);

    @BeforeAll
    static void load() throws Exception {
        model = RegnoModel.load(new ClassPathResource("models/regno/micromodel.cbm"));
    }

    @AfterAll
    static void free() {
        model.close();
    }

    static RegnoRequest fromCsv(Map<String, String> row) {
        ObjectNode node = json.createObjectNode();
        row.forEach(node::put); // every value as a string, as the CSV holds it
        return parser.parse(node);
    }

    @Test
    void bindsTheModelsOwnFeatureListByName() {
        assertThat(model.floatFeatureCount()).isEqualTo(33);
        assertThat(model.categoricalFeatureCount()).isEqualTo(6);
        assertThat(model.textFeatureCount()).isEqualTo(2);
        assertThat(model.version()).matches("regno-[0-9a-f]{12}");
    }

    @Test
    void batchScoringEqualsOneByOneAndProbabilitiesSumToOne() throws Exception {
        List<RegnoFeatures> features = new ArrayList<>();
        for (Map<String, String> row : RegnoTestData.rows()) {
            features.add(RegnoFeatureRecipe.build(fromCsv(row)));
        }
        assertThat(features).hasSize(100);
        List<RegnoPrediction> batch = model.predict(features);
        for (int i = 0; i < features.size(); i++) {
            RegnoPrediction single = model.predict(List.of(features.get(i))).get(0);
            assertThat(batch.get(i)).isEqualTo(single);
            assertThat(single.positive()).isBetween(0.0, 1.0);
            assertThat(single.negative() + single.positive()).isCloseTo(1.0, within(1e-12));
        }
        // The model must actually discriminate: the customer's rows are not all one class.
        assertThat(batch.stream().mapToDouble(RegnoPrediction::positive).max().getAsDouble()).isGreaterThan(0.5);
        assertThat(batch.stream().mapToDouble(RegnoPrediction::positive).min().getAsDouble()).isLessThan(0.5);
    }

    @Test
    void theFeaturesChangeTheScore() throws Exception {
        RegnoRequest base = fromCsv(RegnoTestData.rows().get(0));
        RegnoRequest agreeing = new RegnoRequest(base.aftsRegnoAi(), base.aftsRegnoAi(), 99.0, base.aftsRegnoAiScore(),
                base.charScores(), base.lengthScores(), base.cameraType(), base.cameraClass(), base.timeCheck(),
                base.direction());
        List<RegnoPrediction> p = model.predict(List.of(RegnoFeatureRecipe.build(base), RegnoFeatureRecipe.build(agreeing)));
        assertThat(p.get(0).positive()).isNotEqualTo(p.get(1).positive());
    }

    @Test
    void emptyPlatesAndScoreListsScore() {
        RegnoRequest empty = new RegnoRequest("", "", 0, 0, new double[0], new double[0], "", "",
                java.time.LocalDateTime.of(2021, 8, 1, 0, 0), 0);
        RegnoPrediction p = model.predict(List.of(RegnoFeatureRecipe.build(empty))).get(0);
        assertThat(p.positive()).isBetween(0.0, 1.0);
    }

    @Test
    void sigmoidOfRawScore() {
        assertThat(RegnoPrediction.fromRaw(0)).isEqualTo(new RegnoPrediction(0.5, 0.5));
        RegnoPrediction p = RegnoPrediction.fromRaw(2.0);
        assertThat(p.positive()).isCloseTo(1 / (1 + Math.exp(-2.0)), within(1e-15));
        assertThat(p.negative()).isCloseTo(1 - p.positive(), within(1e-15));
    }
}

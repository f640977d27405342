package io.mlgateway.shared.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.trees.ScoringModel;
import io.mlgateway.shared.trees.TreeEnsemble;
import io.mlgateway.shared.trees.TreeModel;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BoosterTrainerTest {

    private static List<BikeSharingData.Hour> hours;
    private static TreeModel small;

    @BeforeAll
    static void train() {
        hours = BikeSharingData.load();
        small = BoosterTrainer.fitStandalone(TrainingSet.of(hours.subList(0, 2000)), 20);
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
    void aStandaloneFitHasItsRoundsAndAnInterceptNearTheMeanCount() {
        assertThat(small.isLayered()).isFalse();
        assertThat(small.trees().trees()).isEqualTo(20);
        double mean = hours.subList(0, 2000).stream().mapToDouble(BikeSharingData.Hour::count).average().orElseThrow();
        assertThat((double) small.intercept()).isCloseTo(mean, org.assertj.core.data.Offset.offset(1.0));
    }

    @Test
    void treesFittedOnAMarginMoveThatModelTowardsTheNewRows() {
        ScoringModel start = small.bind(null);
        TrainingSet more = TrainingSet.of(hours.subList(9000, 9050));
        TreeEnsemble added = BoosterTrainer.fitOnMargin(more, start.predictAll(more.features(), more.rows()), 5);
        TreeModel next = small.append(added);
        assertThat(added.trees()).isEqualTo(5);
        assertThat(next.trees().slice(0, 20)).isEqualTo(small.trees());
        assertThat(BoosterTrainer.meanAbsoluteError(next.bind(null), more))
                .isLessThan(BoosterTrainer.meanAbsoluteError(start, more));
        assertThatThrownBy(() -> BoosterTrainer.fitOnMargin(more, new float[3], 5))
                .isInstanceOf(IllegalArgumentException.class);
    }
}

package io.mlgateway.retrain;

import static io.mlgateway.retrain.RetrainFixtures.props;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlgateway.core.modelstore.ModelFormat;
import io.mlgateway.core.modelstore.ModelRecord;
import io.mlgateway.core.retrain.Sample;
import io.mlgateway.core.training.BikeSharingData;
import io.mlgateway.core.training.BoosterTrainer;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import ml.dmlc.xgboost4j.java.Booster;
import org.junit.jupiter.api.Test;

/** Model size stays bounded: continue by {@code roundsPerUpdate} trees, or rebuild once that would pass the cap. */
class ModelFitterTest {

    private static final List<BikeSharingData.Hour> HOURS_2012 = BikeSharingData.where(h -> !h.isYear2011());

    private static List<Sample> samples(int from, int n) {
        List<Sample> samples = new ArrayList<>();
        for (int i = from; i < from + n; i++) {
            BikeSharingData.Hour h = HOURS_2012.get(i);
            samples.add(new Sample(i, UUID.randomUUID(), h.features(), h.count()));
        }
        return samples;
    }

    private static ModelRecord asCurrent(ModelFitter.Candidate candidate, long version) {
        return new ModelRecord(version, "alice", version - 1, ModelFormat.XGBOOST_UBJ, candidate.bytes(),
                candidate.trees(), candidate.metrics(), "active", OffsetDateTime.now());
    }

    private static int treesIn(byte[] bytes) {
        Booster booster = ModelFormat.deserialize(ModelFormat.XGBOOST_UBJ, bytes);
        try {
            return BoosterTrainer.trees(booster);
        } finally {
            booster.dispose();
        }
    }

    @Test
    void aContinuedFitAddsExactlyRoundsPerUpdateTrees() {
        ModelRecord base = RetrainFixtures.baseRecord();
        assertThat(base.numTrees()).isEqualTo(BoosterTrainer.BASE_ROUNDS);
        ModelFitter fitter = new ModelFitter(props().maxMaeRatio(1.5).build());

        ModelFitter.Candidate candidate = fitter.fit(base, samples(3000, 50), List.of());

        assertThat(candidate.rebuilt()).isFalse();
        assertThat(candidate.trees()).isEqualTo(BoosterTrainer.BASE_ROUNDS + 10);
        assertThat(treesIn(candidate.bytes())).isEqualTo(candidate.trees());
        assertThat(candidate.samplesUsed()).isEqualTo(40); // 10 of 50 held out
        assertThat(candidate.accepted()).isTrue();
        assertThat(candidate.metrics()).contains("\"rebuilt\": false");
    }

    @Test
    void aFitThatWouldPassTheCapRebuildsFromScratch() {
        ModelRecord base = RetrainFixtures.baseRecord();
        // 200 + 10 > 205: continuing would pass the cap.
        ModelFitter fitter = new ModelFitter(props().maxTrees(205).build());

        ModelFitter.Candidate candidate = fitter.fit(base, samples(3100, 50), samples(2000, 100));

        assertThat(candidate.rebuilt()).isTrue();
        assertThat(candidate.trees()).isEqualTo(BoosterTrainer.BASE_ROUNDS);
        assertThat(treesIn(candidate.bytes())).isEqualTo(BoosterTrainer.BASE_ROUNDS);
        assertThat(candidate.metrics()).contains("\"rebuilt\": true");
    }

    @Test
    void repeatedRetrainsNeverExceedTheCap() {
        int cap = 215;
        ModelFitter fitter = new ModelFitter(props().maxTrees(cap).build());
        ModelRecord current = RetrainFixtures.baseRecord();
        List<Integer> trees = new ArrayList<>();
        List<Boolean> rebuilt = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ModelFitter.Candidate next = fitter.fit(current, samples(3200 + 50 * i, 50), samples(2000, 50 * i));
            assertThat(treesIn(next.bytes())).isEqualTo(next.trees()).isLessThanOrEqualTo(cap);
            trees.add(next.trees());
            rebuilt.add(next.rebuilt());
            current = asCurrent(next, 10 + i);
        }
        // 200 → 210 (continued); 210 + 10 > 215 → rebuilt to 200; and so on.
        assertThat(trees).containsExactly(210, 200, 210, 200);
        assertThat(rebuilt).containsExactly(false, true, false, true);
    }

    /** A rebuild makes BASE_ROUNDS trees, so a lower cap could never be kept: refused at start-up. */
    @Test
    void aCapBelowTheSizeOfARebuiltModelIsRefused() {
        assertThatThrownBy(() -> props().maxTrees(BoosterTrainer.BASE_ROUNDS - 1).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("max-trees");
        assertThat(props().maxTrees(BoosterTrainer.BASE_ROUNDS).build().maxTrees()).isEqualTo(BoosterTrainer.BASE_ROUNDS);
    }
}

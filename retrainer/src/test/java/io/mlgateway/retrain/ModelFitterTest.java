package io.mlgateway.retrain;

import static io.mlgateway.retrain.RetrainFixtures.props;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.NewModel;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.shared.training.BoosterTrainer;
import io.mlgateway.shared.training.TrainingSet;
import io.mlgateway.shared.trees.ScoringModel;
import io.mlgateway.shared.trees.TreeEnsemble;
import io.mlgateway.shared.trees.TreeModel;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Continued fits stay layered on the base and carry only their own trees; model size stays bounded: continue by
 * {@code roundsPerUpdate} trees, or rebuild once that would pass the cap.
 */
class ModelFitterTest {

    private static final List<BikeSharingData.Hour> HOURS_2012 = BikeSharingData.where(h -> !h.isYear2011());

    private static List<Sample> samples(int from, int n) {
        List<Sample> samples = new ArrayList<>();
        for (int i = from; i < from + n; i++) {
            BikeSharingData.Hour h = HOURS_2012.get(i);
            samples.add(Sample.unlogged(i, UUID.randomUUID(), h.features(), h.count()));
        }
        return samples;
    }

    /** The candidate stored as the user's version {@code version}, and what the next fit starts from. */
    private static ModelFitter.Current stored(ModelFitter.Candidate candidate, long version, ModelRecord base) {
        NewModel model = NewModel.of("alice", version - 1, candidate.model(), candidate.baseTrees(), candidate.metrics());
        ModelRecord record = RetrainFixtures.record(version, version - 1, model);
        return new ModelFitter.Current(record, record.baseVersion() == null ? null : base, base);
    }

    @Test
    void aContinuedFitIsLayeredOnTheBaseWithExactlyRoundsPerUpdateTreesOfItsOwn() {
        ModelRecord base = RetrainFixtures.baseRecord();
        assertThat(base.numTrees()).isEqualTo(BoosterTrainer.BASE_ROUNDS);
        ModelFitter fitter = new ModelFitter(props().policy(UpdatePolicy.CONTINUE).maxMaeRatio(1.5).build());

        ModelFitter.Candidate candidate = fitter.fit(new ModelFitter.Current(base, null), samples(3000, 50), List.of());

        assertThat(candidate.rebuilt()).isFalse();
        assertThat(candidate.model().baseVersion()).isEqualTo(base.version());
        assertThat(candidate.model().trees().trees()).isEqualTo(10);
        assertThat(candidate.trees()).isEqualTo(BoosterTrainer.BASE_ROUNDS + 10);
        assertThat(candidate.samplesUsed()).isEqualTo(40); // 10 of 50 held out
        assertThat(candidate.accepted()).isTrue();
        assertThat(candidate.maeAfter()).isLessThan(candidate.maeBefore());
        assertThat(candidate.metrics()).contains("\"rebuilt\": false");

        // The next fit continues from it: its own trees grow by 10, the base stays shared.
        ModelFitter.Candidate second = fitter.fit(stored(candidate, 2, base), samples(3050, 50), List.of());
        assertThat(second.model().baseVersion()).isEqualTo(base.version());
        assertThat(second.model().trees().trees()).isEqualTo(20);
        assertThat(second.model().trees().slice(0, 10)).isEqualTo(candidate.model().trees());
        assertThat(second.trees()).isEqualTo(BoosterTrainer.BASE_ROUNDS + 20);
    }

    @Test
    void aFitThatWouldPassTheCapRebuildsAStandaloneModelFromScratch() {
        ModelRecord base = RetrainFixtures.baseRecord();
        // 200 + 10 > 205: continuing would pass the cap.
        ModelFitter fitter = new ModelFitter(props().policy(UpdatePolicy.CONTINUE).maxTrees(205).build());

        ModelFitter.Candidate candidate = fitter.fit(new ModelFitter.Current(base, null), samples(3100, 50),
                samples(2000, 100));

        assertThat(candidate.rebuilt()).isTrue();
        assertThat(candidate.model().isLayered()).isFalse();
        assertThat(candidate.baseTrees()).isZero();
        assertThat(candidate.trees()).isEqualTo(BoosterTrainer.BASE_ROUNDS);
        assertThat(candidate.model().trees().trees()).isEqualTo(BoosterTrainer.BASE_ROUNDS);
        assertThat(candidate.metrics()).contains("\"rebuilt\": true");
    }

    @Test
    void repeatedRetrainsNeverExceedTheCap() {
        int cap = 215;
        ModelFitter fitter = new ModelFitter(props().policy(UpdatePolicy.CONTINUE).maxTrees(cap).build());
        ModelRecord base = RetrainFixtures.baseRecord();
        ModelFitter.Current current = new ModelFitter.Current(base, null);
        List<Integer> trees = new ArrayList<>();
        List<Boolean> rebuilt = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ModelFitter.Candidate next = fitter.fit(current, samples(3200 + 50 * i, 50), samples(2000, 50 * i));
            assertThat(next.trees()).isEqualTo(next.baseTrees() + next.model().trees().trees()).isLessThanOrEqualTo(cap);
            trees.add(next.trees());
            rebuilt.add(next.rebuilt());
            current = stored(next, 10 + i, base);
        }
        // 200 → 210 (continued on the base); 210 + 10 > 215 → rebuilt to 200 standalone; 210 (continued); rebuilt.
        assertThat(trees).containsExactly(210, 200, 210, 200);
        assertThat(rebuilt).containsExactly(false, true, false, true);
    }

    @Test
    void aResidualRefitReplacesTheOwnTreesOnTheWindowOverTheSharedBase() {
        ModelRecord base = RetrainFixtures.baseRecord();
        ModelFitter fitter = new ModelFitter(props().ownTrees(20).window(300).maxMaeRatio(1.0).build());
        ModelFitter.Current current = new ModelFitter.Current(base, null);
        assertThat(fitter.windowNeeded(current)).isEqualTo(300);

        ModelFitter.Candidate first = fitter.fit(current, samples(3000, 50), List.of());
        assertThat(first.model().baseVersion()).isEqualTo(base.version());
        assertThat(first.model().trees().trees()).isEqualTo(20);
        assertThat(first.trees()).isEqualTo(BoosterTrainer.BASE_ROUNDS + 20);
        assertThat(first.samplesUsed()).isEqualTo(40);
        // 2012 runs well above the 2011 base: its own trees must beat the frozen base on the held-out hours.
        assertThat(first.accepted()).isTrue();
        assertThat(first.maeAfter()).isLessThan(first.maeBefore());
        assertThat(first.metrics()).contains("\"policy\": \"residual\"").contains("\"own_trees\": 20");

        // Later fits replace the own trees (still 20), trained on the latest 300 actuals: 260 used + 40 new.
        ModelFitter.Candidate second = fitter.fit(stored(first, 2, base), samples(3350, 50), newestFirst(3000, 350));
        assertThat(second.model().trees().trees()).isEqualTo(20);
        assertThat(second.model().baseVersion()).isEqualTo(base.version());
        assertThat(second.samplesUsed()).isEqualTo(300);
        assertThat(second.maeBefore()).isEqualTo(
                BoosterTrainer.meanAbsoluteError(first.model().bind(base.model().bind(null)),
                        ModelFitter.toSet(samples(3390, 10))), org.assertj.core.data.Offset.offset(1e-9));
    }

    /** The champion already predicts the held-out hours almost exactly: no challenger can beat it. */
    @Test
    void aChallengerWorseThanTheChampionOnTheHeldOutActualsIsNotAccepted() {
        ModelRecord base = RetrainFixtures.baseRecord();
        List<Sample> fresh = samples(3000, 50);
        TrainingSet all = ModelFitter.toSet(fresh);
        ScoringModel baseScoring = base.model().bind(null);
        TreeModel memorised = TreeModel.layered(base.version(), BoosterTrainer.fitOnMargin(all,
                baseScoring.predictAll(all.features(), all.rows()), 300, new BoosterTrainer.Params(10, 0.5)));
        NewModel model = NewModel.of("alice", base.version(), memorised, base.numTrees(), "{}");
        ModelFitter.Current current = new ModelFitter.Current(RetrainFixtures.record(2, base.version(), model), base);
        ModelFitter fitter = new ModelFitter(props().maxMaeRatio(1.0).build());

        ModelFitter.Candidate candidate = fitter.fit(current, fresh, List.of());

        assertThat(candidate.maeBefore()).isLessThan(1.0);
        assertThat(candidate.maeAfter()).isGreaterThan(candidate.maeBefore());
        assertThat(candidate.accepted()).isFalse();
        assertThat(candidate.metrics()).contains("\"champion_version\": 2");
    }

    /** Live errors: the champion's served predictions, and its predecessor rescored on exactly those rows. */
    @Test
    void liveErrorsCompareTheChampionWithItsPredecessorOnTheRowsTheChampionServed() {
        ModelRecord base = RetrainFixtures.baseRecord();
        ScoringModel baseScoring = base.model().bind(null);
        List<Sample> fresh = new ArrayList<>();
        double served = 0;
        double predecessor = 0;
        for (int i = 0; i < 50; i++) {
            BikeSharingData.Hour h = HOURS_2012.get(3000 + i);
            // 40 served by the champion (version 7, each 5 off), 10 by an older version (ignored).
            long version = i < 40 ? 7 : 6;
            fresh.add(new Sample(i, UUID.randomUUID(), h.features(), h.count(), h.count() + 5.0, version));
            if (i < 40) {
                served += 5;
                predecessor += Math.abs(baseScoring.predict(h.features(), 0) - h.count());
            }
        }
        ModelFitter.LiveErrors live = ModelFitter.LiveErrors.of(7, fresh, baseScoring);
        assertThat(live.actuals()).isEqualTo(40);
        assertThat(live.champion()).isEqualTo(served / 40);
        assertThat(live.predecessor()).isCloseTo(predecessor / 40, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(live.regressed(0.1)).isFalse();
        assertThat(new ModelFitter.LiveErrors(40, 12, 10).regressed(0.1)).isTrue();
        assertThat(new ModelFitter.LiveErrors(40, 10.9, 10).regressed(0.1)).isFalse();
        assertThat(ModelFitter.LiveErrors.of(8, fresh, baseScoring).actuals()).isZero();
        assertThat(ModelFitter.LiveErrors.of(7, fresh, null).predecessor()).isNaN();

        // Stored with the challenger's metrics.
        NewModel model = NewModel.of("alice", base.version(),
                TreeModel.layered(base.version(), TreeEnsemble.empty(RentalFeatures.COUNT)), base.numTrees(), "{}");
        ModelRecord champion = RetrainFixtures.record(7, base.version(), model);
        ModelFitter.Candidate candidate = new ModelFitter(props().build())
                .fit(new ModelFitter.Current(champion, base, base, base), fresh, List.of());
        assertThat(candidate.metrics()).contains("\"live_actuals\": 40").contains("\"live_mae_champion\": 5.0000")
                .contains("\"live_mae_predecessor\": ");
    }

    private static List<Sample> newestFirst(int from, int n) {
        List<Sample> rows = new ArrayList<>(samples(from, n));
        java.util.Collections.reverse(rows);
        return rows;
    }

    @Test
    void aModelNeedsExactlyItsBase() {
        ModelRecord base = RetrainFixtures.baseRecord();
        NewModel layered = NewModel.of("alice", base.version(),
                TreeModel.layered(base.version(), TreeEnsemble.empty(RentalFeatures.COUNT)), base.numTrees(), "{}");
        ModelRecord record = RetrainFixtures.record(5, base.version(), layered);
        assertThatThrownBy(() -> new ModelFitter.Current(record, null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new ModelFitter.Current(record, base).base()).isSameAs(base);
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

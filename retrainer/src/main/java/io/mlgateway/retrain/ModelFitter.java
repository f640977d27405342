package io.mlgateway.retrain;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.shared.training.BoosterTrainer;
import io.mlgateway.shared.training.TrainingSet;
import io.mlgateway.shared.trees.ScoringModel;
import io.mlgateway.shared.trees.TreeEnsemble;
import io.mlgateway.shared.trees.TreeModel;
import io.mlgateway.retrain.drift.DriftCheck;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.springframework.stereotype.Component;

/**
 * Fits a user's next model, the challenger, and judges it against the champion the user is served now (blocking,
 * CPU-bound: run it on the training scheduler). The newest {@code holdoutFraction} of the new actuals is kept out of
 * the fit; the challenger is accepted only if its error on those rows is at most {@code maxMaeRatio} times the
 * champion's. How it is fitted is the {@link UpdatePolicy}. Its metrics carry the training reference drift is
 * measured against ({@link DriftCheck}).
 */
@Component
public class ModelFitter {

    private final RetrainProperties properties;
    private final TrainingSet baseRows;

    public ModelFitter(RetrainProperties properties) {
        this.properties = properties;
        this.baseRows = TrainingSet.of(BikeSharingData.where(BikeSharingData.Hour::isYear2011));
    }

    /**
     * The models a retrain starts from.
     *
     * @param model      the champion: the user's current model, or the shared base for a user's first retrain
     * @param base       the model {@code model} is layered on; null when it is the base itself or stands alone
     * @param sharedBase the shared base model now (what a residual refit layers the challenger on)
     * @param predecessor the model the champion replaced (its parent), to compare their live errors; null if none
     *                    or unknown
     */
    public record Current(ModelRecord model, ModelRecord base, ModelRecord sharedBase, ModelRecord predecessor) {

        public Current {
            if ((model.baseVersion() != null) != (base != null)
                    || (base != null && base.version() != model.baseVersion())) {
                throw new IllegalArgumentException("model " + model.version() + " needs exactly its base "
                        + model.baseVersion());
            }
            if (!sharedBase.isBase()) {
                throw new IllegalArgumentException("model " + sharedBase.version() + " is not the shared base");
            }
        }

        /** A champion whose base is the shared base (or that is the shared base), predecessor unknown. */
        public Current(ModelRecord model, ModelRecord base) {
            this(model, base, model.isBase() ? model : base, null);
        }

        /** Predecessor unknown. */
        public Current(ModelRecord model, ModelRecord base, ModelRecord sharedBase) {
            this(model, base, sharedBase, null);
        }

        /** The predecessor ready to score, if it is known and its base is one of those at hand. */
        ScoringModel predecessorScoring() {
            if (predecessor == null) {
                return null;
            }
            TreeModel decoded = predecessor.model();
            if (!decoded.isLayered()) {
                return decoded.bind(null);
            }
            ModelRecord its = decoded.baseVersion() == sharedBase.version() ? sharedBase
                    : base != null && decoded.baseVersion() == base.version() ? base : null;
            return its == null ? null : decoded.bind(its.model().bind(null));
        }
    }

    /** How many of the user's latest already-used actuals the next fit of {@code current} trains on. */
    public int windowNeeded(Current current) {
        return switch (properties.policy()) {
            case RESIDUAL, REBUILD -> properties.window();
            case CONTINUE -> continueWouldRebuild(current) ? properties.window() : 0;
        };
    }

    private boolean continueWouldRebuild(Current current) {
        return current.model().numTrees() + properties.roundsPerUpdate() > properties.maxTrees();
    }

    /**
     * Fits and judges the challenger.
     *
     * @param fresh  the new actuals, oldest first
     * @param recent the user's latest already-used actuals, newest first, as many as {@link #windowNeeded} asked
     */
    public Candidate fit(Current current, List<Sample> fresh, List<Sample> recent) {
        int holdout = Math.max(1, (int) Math.round(fresh.size() * properties.holdoutFraction()));
        List<Sample> train = fresh.subList(0, fresh.size() - holdout);
        TrainingSet validation = toSet(fresh.subList(fresh.size() - holdout, fresh.size()));

        ModelRecord champion = current.model();
        ScoringModel championScoring = champion.model().bind(current.base() == null ? null
                : current.base().model().bind(null));

        Fitted fitted = switch (properties.policy()) {
            case RESIDUAL -> residual(current.sharedBase(), window(recent, train));
            case REBUILD -> rebuild(window(recent, train));
            case CONTINUE -> continueFrom(current, championScoring, train, recent);
        };

        LiveErrors live = LiveErrors.of(champion.version(), fresh, current.predecessorScoring());
        double before = BoosterTrainer.meanAbsoluteError(championScoring, validation);
        double after = BoosterTrainer.meanAbsoluteError(fitted.scoring(), validation);
        boolean accepted = Double.isFinite(after) && after <= before * properties.maxMaeRatio();
        String metrics = String.format(Locale.ROOT,
                "{\"policy\": \"%s\", \"champion_version\": %d, \"holdout_mae_champion\": %.4f,"
                        + " \"holdout_mae_challenger\": %.4f, \"samples_used\": %d, \"holdout\": %d, \"own_trees\": %d,"
                        + " \"rebuilt\": %b%s, \"reference\": %s}",
                properties.policy().name().toLowerCase(Locale.ROOT), champion.version(), before, after,
                fitted.samplesUsed(), holdout, fitted.model().trees().trees(), fitted.rebuilt(), live.json(),
                DriftCheck.reference(fitted.rows().stream().map(Sample::features).toList()));
        return new Candidate(fitted.model(), fitted.baseTrees(), fitted.scoring().trees(), fitted.samplesUsed(),
                fitted.rebuilt(), before, after, accepted, metrics, live);
    }

    /** @param rows the user's actuals it was fitted on (the 2011 base rows of a rebuild not included) */
    private record Fitted(TreeModel model, ScoringModel scoring, int baseTrees, List<Sample> rows, boolean rebuilt) {

        int samplesUsed() {
            return rows.size();
        }
    }

    /** The shared base stays; the user's own trees are refitted on the window over the base's prediction. */
    private Fitted residual(ModelRecord sharedBase, List<Sample> window) {
        ScoringModel base = sharedBase.model().bind(null);
        TrainingSet data = toSet(window);
        TreeEnsemble own = BoosterTrainer.fitOnMargin(data, base.predictAll(data.features(), data.rows()),
                properties.ownTrees(), new BoosterTrainer.Params(properties.treeDepth(), properties.learningRate()));
        TreeModel model = TreeModel.layered(sharedBase.version(), own);
        return new Fitted(model, model.bind(base), sharedBase.numTrees(), window, false);
    }

    private Fitted rebuild(List<Sample> window) {
        TreeModel model = BoosterTrainer.fitStandalone(withBaseRows(window), BoosterTrainer.BASE_ROUNDS);
        return new Fitted(model, model.bind(null), 0, window, true);
    }

    /** Appends trees fitted on the new actuals over the champion's prediction; rebuilds once that passes the cap. */
    private Fitted continueFrom(Current current, ScoringModel championScoring, List<Sample> train, List<Sample> recent) {
        if (continueWouldRebuild(current)) {
            return rebuild(window(recent, train));
        }
        ModelRecord champion = current.model();
        ModelRecord baseRecord = champion.isBase() ? champion : current.base();
        TreeModel start = champion.isBase()
                ? TreeModel.layered(champion.version(), TreeEnsemble.empty(RentalFeatures.COUNT))
                : champion.model();
        ScoringModel base = baseRecord == null ? null
                : champion.isBase() ? championScoring : baseRecord.model().bind(null);
        TrainingSet data = toSet(train);
        TreeEnsemble added = BoosterTrainer.fitOnMargin(data, championScoring.predictAll(data.features(), data.rows()),
                properties.roundsPerUpdate());
        TreeModel next = start.append(added);
        return new Fitted(next, next.bind(next.isLayered() ? base : null),
                next.isLayered() ? baseRecord.numTrees() : 0, train, false);
    }

    /** The latest {@code window} actuals, oldest first: the already-used ones (newest first) then the new ones. */
    private List<Sample> window(List<Sample> recentNewestFirst, List<Sample> train) {
        int older = Math.max(0, Math.min(recentNewestFirst.size(), properties.window() - train.size()));
        List<Sample> rows = new ArrayList<>(older + train.size());
        for (int i = older - 1; i >= 0; i--) {
            rows.add(recentNewestFirst.get(i));
        }
        rows.addAll(train.subList(Math.max(0, train.size() - properties.window()), train.size()));
        return rows;
    }

    private TrainingSet withBaseRows(List<Sample> user) {
        TrainingSet own = toSet(user);
        float[] features = Arrays.copyOf(baseRows.features(), baseRows.features().length + own.features().length);
        float[] labels = Arrays.copyOf(baseRows.labels(), baseRows.rows() + own.rows());
        System.arraycopy(own.features(), 0, features, baseRows.features().length, own.features().length);
        System.arraycopy(own.labels(), 0, labels, baseRows.rows(), own.rows());
        return new TrainingSet(features, labels);
    }

    static TrainingSet toSet(List<Sample> samples) {
        float[] labels = new float[samples.size()];
        for (int i = 0; i < samples.size(); i++) {
            labels[i] = samples.get(i).actualValue();
        }
        return new TrainingSet(RentalFeatures.rowMajor(samples.stream().map(Sample::features).toList()), labels);
    }

    /**
     * A fitted challenger and how it compared with the champion on the held-out actuals.
     *
     * @param baseTrees   trees of the base {@code model} is layered on (0 if it stands alone)
     * @param trees       trees evaluated per row, the base's included
     * @param samplesUsed actuals it was fitted on
     * @param maeBefore   the champion's MAE on the held-out actuals
     * @param maeAfter    the challenger's
     */
    public record Candidate(TreeModel model, int baseTrees, int trees, int samplesUsed, boolean rebuilt,
            double maeBefore, double maeAfter, boolean accepted, String metrics, LiveErrors live) {
    }

    /**
     * How the champion did on the new actuals it served, and how its predecessor would have done on the very same
     * rows: the fair test of whether promoting it helped.
     *
     * @param actuals     new actuals the champion served
     * @param champion    MAE of the champion's served predictions on them (NaN if none)
     * @param predecessor MAE its predecessor would have had on them (NaN if unknown)
     */
    public record LiveErrors(int actuals, double champion, double predecessor) {

        static LiveErrors of(long championVersion, List<Sample> fresh, ScoringModel predecessor) {
            int n = 0;
            double served = 0;
            double before = 0;
            for (Sample s : fresh) {
                if (s.modelVersion() != championVersion || Double.isNaN(s.prediction())) {
                    continue;
                }
                n++;
                served += Math.abs(s.prediction() - s.actualValue());
                if (predecessor != null) {
                    before += Math.abs(predecessor.predict(s.features(), 0) - s.actualValue());
                }
            }
            return new LiveErrors(n, n == 0 ? Double.NaN : served / n,
                    n == 0 || predecessor == null ? Double.NaN : before / n);
        }

        /** Whether the champion did worse than its predecessor by more than {@code tolerance} (relative). */
        public boolean regressed(double tolerance) {
            return !Double.isNaN(predecessor) && champion > predecessor * (1 + tolerance);
        }

        /** Metrics fields (", \"live_…\": …"), none when the champion served none of the new actuals. */
        String json() {
            if (actuals == 0) {
                return "";
            }
            String fields = String.format(Locale.ROOT, ", \"live_actuals\": %d, \"live_mae_champion\": %.4f", actuals,
                    champion);
            return Double.isNaN(predecessor) ? fields
                    : fields + String.format(Locale.ROOT, ", \"live_mae_predecessor\": %.4f", predecessor);
        }
    }
}

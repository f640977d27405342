package io.mlgateway.retrain;

import io.mlgateway.core.features.RentalFeatures;
import io.mlgateway.core.modelstore.ModelRecord;
import io.mlgateway.core.retrain.Sample;
import io.mlgateway.core.training.BikeSharingData;
import io.mlgateway.core.training.BoosterTrainer;
import io.mlgateway.core.training.TrainingSet;
import io.mlgateway.core.trees.ScoringModel;
import io.mlgateway.core.trees.TreeEnsemble;
import io.mlgateway.core.trees.TreeModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.springframework.stereotype.Component;

/**
 * Fits a user's next model (blocking, CPU-bound: run it on the training scheduler). Normally it continues the
 * current model with {@code roundsPerUpdate} more trees fitted on the new samples over the current model's
 * predictions, and appends them to the user's own trees: the model stays layered on the shared base, so it carries
 * only the trees the user's retrains added. Continuing adds trees every time, so once the next update would pass
 * {@code maxTrees} (counting the base's) it rebuilds a standalone model from scratch instead, on the 2011 base rows
 * plus the user's latest actuals. Either way the last {@code holdoutFraction} of the new samples is kept out of the
 * fit and must not be predicted worse than by the current model (within {@code maxMaeRatio}).
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
     * The model a retrain starts from.
     *
     * @param model the user's current model, or the base model for a user's first retrain
     * @param base  the model {@code model} is layered on; null when it is the base itself or stands alone
     */
    public record Current(ModelRecord model, ModelRecord base) {

        public Current {
            if ((model.baseVersion() != null) != (base != null)
                    || (base != null && base.version() != model.baseVersion())) {
                throw new IllegalArgumentException("model " + model.version() + " needs exactly its base "
                        + model.baseVersion());
            }
        }
    }

    /** The fitted candidate; {@link Candidate#accepted()} says whether it passed validation. */
    public Candidate fit(Current current, List<Sample> fresh, List<Sample> recentUsed) {
        int holdout = Math.max(1, (int) Math.round(fresh.size() * properties.holdoutFraction()));
        List<Sample> train = fresh.subList(0, fresh.size() - holdout);
        TrainingSet validation = toSet(fresh.subList(fresh.size() - holdout, fresh.size()));

        // What the user is served now, and what its next model will be layered on (if anything).
        ModelRecord record = current.model();
        ModelRecord baseRecord = record.isBase() ? record : current.base();
        ScoringModel base = baseRecord == null ? null : baseRecord.model().bind(null);
        TreeModel start = record.isBase()
                ? TreeModel.layered(record.version(), TreeEnsemble.empty(RentalFeatures.COUNT))
                : record.model();
        ScoringModel startScoring = start.bind(start.isLayered() ? base : null);

        boolean rebuild = record.numTrees() + properties.roundsPerUpdate() > properties.maxTrees();
        TreeModel next;
        ScoringModel nextScoring;
        if (rebuild) {
            next = BoosterTrainer.fitStandalone(rebuildSet(recentUsed, train), BoosterTrainer.BASE_ROUNDS);
            nextScoring = next.bind(null);
        } else {
            TrainingSet data = toSet(train);
            TreeEnsemble added = BoosterTrainer.fitOnMargin(data, startScoring.predictAll(data.features(), data.rows()),
                    properties.roundsPerUpdate());
            next = start.append(added);
            nextScoring = next.bind(next.isLayered() ? base : null);
        }
        double before = BoosterTrainer.meanAbsoluteError(startScoring, validation);
        double after = BoosterTrainer.meanAbsoluteError(nextScoring, validation);
        boolean accepted = Double.isFinite(after) && after <= before * properties.maxMaeRatio();
        String metrics = String.format(Locale.ROOT,
                "{\"holdout_mae_before\": %.4f, \"holdout_mae_after\": %.4f, \"samples_used\": %d,"
                        + " \"holdout\": %d, \"rebuilt\": %b}", before, after, train.size(), holdout, rebuild);
        int baseTrees = next.isLayered() ? baseRecord.numTrees() : 0;
        return new Candidate(next, baseTrees, nextScoring.trees(), train.size(), rebuild, before, after, accepted,
                metrics);
    }

    private TrainingSet rebuildSet(List<Sample> recentUsed, List<Sample> train) {
        List<Sample> user = new ArrayList<>(recentUsed);
        user.addAll(train);
        int n = baseRows.rows() + user.size();
        float[] features = new float[n * RentalFeatures.COUNT];
        float[] labels = new float[n];
        System.arraycopy(baseRows.features(), 0, features, 0, baseRows.features().length);
        System.arraycopy(baseRows.labels(), 0, labels, 0, baseRows.rows());
        for (int i = 0; i < user.size(); i++) {
            int row = baseRows.rows() + i;
            System.arraycopy(user.get(i).features(), 0, features, row * RentalFeatures.COUNT, RentalFeatures.COUNT);
            labels[row] = user.get(i).actualValue();
        }
        return new TrainingSet(features, labels);
    }

    static TrainingSet toSet(List<Sample> samples) {
        float[] features = new float[samples.size() * RentalFeatures.COUNT];
        float[] labels = new float[samples.size()];
        for (int i = 0; i < samples.size(); i++) {
            System.arraycopy(samples.get(i).features(), 0, features, i * RentalFeatures.COUNT, RentalFeatures.COUNT);
            labels[i] = samples.get(i).actualValue();
        }
        return new TrainingSet(features, labels);
    }

    /**
     * A fitted model and its validation.
     *
     * @param baseTrees trees of the base {@code model} is layered on (0 if it stands alone)
     * @param trees     trees evaluated per row, the base's included
     */
    public record Candidate(TreeModel model, int baseTrees, int trees, int samplesUsed, boolean rebuilt,
            double maeBefore, double maeAfter, boolean accepted, String metrics) {
    }
}

package io.mlgateway.retrain;

import io.mlgateway.core.features.RentalFeatures;
import io.mlgateway.core.modelstore.ModelFormat;
import io.mlgateway.core.modelstore.ModelRecord;
import io.mlgateway.core.retrain.Sample;
import io.mlgateway.core.training.BikeSharingData;
import io.mlgateway.core.training.BoosterTrainer;
import io.mlgateway.core.training.TrainingSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import ml.dmlc.xgboost4j.java.Booster;
import org.springframework.stereotype.Component;

/**
 * Fits a user's next model (blocking, CPU-bound: run it on the training scheduler). Normally it continues the
 * current booster with {@code roundsPerUpdate} more trees on the new samples. Continuing adds trees every time,
 * so once the next update would pass {@code maxTrees} it rebuilds from scratch instead, on the 2011 base rows
 * plus the user's latest actuals: model size stays bounded, and old behaviour is re-learnt from recent data.
 * Either way the last {@code holdoutFraction} of the new samples is kept out of the fit and must not be predicted
 * worse than by the current model (within {@code maxMaeRatio}).
 */
@Component
public class ModelFitter {

    private final RetrainProperties properties;
    private final TrainingSet baseRows;

    public ModelFitter(RetrainProperties properties) {
        this.properties = properties;
        this.baseRows = TrainingSet.of(BikeSharingData.where(BikeSharingData.Hour::isYear2011));
    }

    /** The fitted candidate; {@link Candidate#accepted()} says whether it passed validation. */
    public Candidate fit(ModelRecord current, List<Sample> fresh, List<Sample> recentUsed) {
        int holdout = Math.max(1, (int) Math.round(fresh.size() * properties.holdoutFraction()));
        List<Sample> train = fresh.subList(0, fresh.size() - holdout);
        TrainingSet validation = toSet(fresh.subList(fresh.size() - holdout, fresh.size()));
        Booster start = ModelFormat.deserialize(current.format(), current.bytes());
        Booster next = null;
        try {
            boolean rebuild = current.numTrees() + properties.roundsPerUpdate() > properties.maxTrees();
            next = rebuild
                    ? BoosterTrainer.trainFromScratch(rebuildSet(recentUsed, train), BoosterTrainer.BASE_ROUNDS)
                    : BoosterTrainer.continueFrom(start, toSet(train), properties.roundsPerUpdate());
            double before = BoosterTrainer.meanAbsoluteError(start, validation);
            double after = BoosterTrainer.meanAbsoluteError(next, validation);
            boolean accepted = Double.isFinite(after) && after <= before * properties.maxMaeRatio();
            String metrics = String.format(Locale.ROOT,
                    "{\"holdout_mae_before\": %.4f, \"holdout_mae_after\": %.4f, \"samples_used\": %d,"
                            + " \"holdout\": %d, \"rebuilt\": %b}", before, after, train.size(), holdout, rebuild);
            Candidate candidate = new Candidate(ModelFormat.serialize(next), BoosterTrainer.trees(next), train.size(),
                    rebuild, before, after, accepted, metrics);
            return candidate;
        } finally {
            start.dispose();
            if (next != null) {
                next.dispose();
            }
        }
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

    /** A fitted model and its validation. */
    public record Candidate(byte[] bytes, int trees, int samplesUsed, boolean rebuilt, double maeBefore,
            double maeAfter, boolean accepted, String metrics) {
    }
}

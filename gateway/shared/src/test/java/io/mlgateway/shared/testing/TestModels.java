package io.mlgateway.shared.testing;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.NewModel;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.shared.training.BoosterTrainer;
import io.mlgateway.shared.training.TrainingSet;
import io.mlgateway.shared.trees.ScoringModel;
import io.mlgateway.shared.trees.TreeEnsemble;
import io.mlgateway.shared.trees.TreeModel;
import java.util.List;

/** Per-user models made the way the retrainer makes them, for tests that need a user with a model of its own. */
public final class TestModels {

    private TestModels() {
    }

    /**
     * {@code user}'s next model: {@code rounds} trees fitted on {@code hours} over the current model's margin, appended
     * to that model's own trees, layered on {@code base}.
     *
     * @param parent the user's current model, or null for a first model (continued from the base)
     */
    public static NewModel continued(String user, ModelRecord base, ModelRecord parent, List<BikeSharingData.Hour> hours,
            int rounds) {
        TreeModel start = parent == null ? TreeModel.layered(base.version(), TreeEnsemble.empty(RentalFeatures.COUNT))
                : parent.model();
        ScoringModel current = start.bind(base.model().bind(null));
        TrainingSet data = TrainingSet.of(hours);
        TreeEnsemble added = BoosterTrainer.fitOnMargin(data, current.predictAll(data.features(), data.rows()), rounds);
        return NewModel.of(user, parent == null ? base.version() : parent.version(), start.append(added),
                base.numTrees(), "{}");
    }

    /** What {@code model} (layered on {@code base}, or standalone) predicts for one row. */
    public static float predict(ModelRecord base, ModelRecord model, float[] row) {
        TreeModel decoded = model.model();
        return decoded.bind(decoded.isLayered() ? base.model().bind(null) : null).predict(row, 0);
    }
}

package io.mlgateway.rentals;

import io.mlgateway.core.features.RentalFeatures;
import io.mlgateway.modelstore.LoadedModel;
import io.mlgateway.modelstore.ModelResolver;
import io.mlgateway.scoring.MicroBatcher;
import io.mlgateway.scoring.ScoringExecutor;
import java.util.ArrayList;
import java.util.List;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Scores rows with the user's current booster on the scoring pool, holding the booster until the native call has
 * returned. Single rows are micro-batched per booster: concurrent requests of one user (or of all users served
 * the shared base model) go into one native call.
 */
@Component
public class RentalsScorer {

    static final String MODEL = "rentals";

    private final ModelResolver resolver;
    private final ScoringExecutor executor;
    private final RentalsReadiness readiness;
    private final MicroBatcher<LoadedModel, float[], Float> batcher;

    public RentalsScorer(ModelResolver resolver, ScoringExecutor executor, RentalsReadiness readiness) {
        this.resolver = resolver;
        this.executor = executor;
        this.readiness = readiness;
        this.batcher = executor.batcher(MODEL, RentalsScorer::predict);
    }

    private static List<Float> predict(LoadedModel model, List<float[]> rows) {
        float[] predictions = model.predict(flatten(rows), rows.size());
        List<Float> out = new ArrayList<>(predictions.length);
        for (float p : predictions) {
            out.add(p);
        }
        return out;
    }

    private static float[] flatten(List<float[]> rows) {
        float[] flat = new float[rows.size() * RentalFeatures.COUNT];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, flat, i * RentalFeatures.COUNT, RentalFeatures.COUNT);
        }
        return flat;
    }

    /** The prediction for one row, scored in whatever batch of its booster it joins. */
    public Mono<Scored> scoreOne(String userId, float[] row) {
        // The batcher releases the hold once the row's batch is over, even if the request is cancelled meanwhile.
        return readiness.requireReady().then(resolver.resolve(userId)).flatMap(model ->
                batcher.submit(model, row, model::release)
                        .map(p -> new Scored(model.version(), model.isBase(), new float[] {p})));
    }

    /** Predictions for each row (model order) plus the model version that made them, in one native call. */
    public Mono<Scored> score(String userId, List<float[]> rows) {
        float[] flat = flatten(rows);
        return readiness.requireReady().then(Mono.usingWhen(
                resolver.resolve(userId),
                model -> executor.submit(MODEL, () -> new Scored(model.version(), model.isBase(),
                        model.predict(flat, rows.size()))),
                model -> Mono.fromRunnable(model::release)));
    }

    /** @param predictions one per row, in order */
    public record Scored(long modelVersion, boolean base, float[] predictions) {
    }

}

package io.mlgateway.rentals;

import io.mlgateway.modelstore.Explainable;
import io.mlgateway.modelstore.ModelResolver;
import io.mlgateway.modelstore.ServedModel;
import io.mlgateway.scoring.MicroBatcher;
import io.mlgateway.scoring.ScoringExecutor;
import java.util.List;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Scores rows with the user's current model on the scoring pool. Models are evaluated in Java (no native call), so
 * rows of different users can share one trip to the pool: every single-row request joins one micro-batching lane,
 * and a batch scores each row with its own user's model. Under load that turns a thread hand-off per request into
 * one per batch, whatever the number of users.
 */
@Component
public class RentalsScorer {

    static final String MODEL = "rentals";

    private final ModelResolver resolver;
    private final ScoringExecutor executor;
    private final RentalsReadiness readiness;
    private final MicroBatcher<String, Row, Float> batcher;

    public RentalsScorer(ModelResolver resolver, ScoringExecutor executor, RentalsReadiness readiness) {
        this.resolver = resolver;
        this.executor = executor;
        this.readiness = readiness;
        this.batcher = executor.batcher(MODEL, RentalsScorer::predict);
    }

    /** One row and the model it is scored with. */
    record Row(ServedModel model, float[] features) {
    }

    private static List<Float> predict(String lane, List<Row> rows) {
        Float[] out = new Float[rows.size()];
        for (int i = 0; i < out.length; i++) {
            Row row = rows.get(i);
            out[i] = row.model().predict(row.features(), 0);
        }
        return List.of(out);
    }

    /** The prediction for one row, scored in whatever batch it joins. */
    public Mono<Scored> scoreOne(String userId, float[] row) {
        ServedModel cached = resolver.cached(userId);
        Mono<ServedModel> model = cached != null ? Mono.just(cached)
                : readiness.requireReady().then(resolver.resolve(userId));
        return model.flatMap(m -> batcher.submit(MODEL, new Row(m, row))
                .map(p -> new Scored(m.version(), m.base(), new float[] {p}, null)));
    }

    /**
     * Predictions for each row (model order) plus the model version that made them, in one task; with
     * {@code explain}, each row's contributions too, from the same model in the same task.
     */
    public Mono<Scored> score(String userId, List<float[]> rows, boolean explain) {
        Mono<ServedModel> model = readiness.requireReady().then(resolver.resolve(userId));
        if (!explain) {
            return model.flatMap(m -> executor.submit(MODEL, () -> scoreAll(m, rows, null)));
        }
        // The served form holds no covers: an explanation reads the served version's stored form first.
        return model.flatMap(m -> resolver.explainable(m).flatMap(stored ->
                executor.submit(MODEL, () -> scoreAll(m, rows, stored))));
    }

    private static Scored scoreAll(ServedModel model, List<float[]> rows, Explainable explain) {
        float[] predictions = new float[rows.size()];
        double[][] contributions = explain != null ? new double[rows.size()][] : null;
        for (int i = 0; i < predictions.length; i++) {
            predictions[i] = model.predict(rows.get(i), 0);
            if (explain != null) {
                contributions[i] = explain.contributions(rows.get(i), 0);
            }
        }
        return new Scored(model.version(), model.base(), predictions, contributions);
    }

    /**
     * @param predictions   one per row, in order
     * @param contributions per row, each feature's contribution then the bias; null unless asked for
     */
    public record Scored(long modelVersion, boolean base, float[] predictions, double[][] contributions) {
    }
}

package io.mlgateway.rentals;

import io.mlgateway.core.features.RentalFeatures;
import io.mlgateway.modelstore.ModelResolver;
import io.mlgateway.scoring.ScoringExecutor;
import java.util.List;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/** Scores rows with the user's current booster on the scoring pool, holding the booster until the call returns. */
@Component
public class RentalsScorer {

    static final String MODEL = "rentals";

    private final ModelResolver resolver;
    private final ScoringExecutor executor;
    private final RentalsReadiness readiness;

    public RentalsScorer(ModelResolver resolver, ScoringExecutor executor, RentalsReadiness readiness) {
        this.resolver = resolver;
        this.executor = executor;
        this.readiness = readiness;
    }

    /** Predictions for each row (model order) plus the model version that made them, in one native call. */
    public Mono<Scored> score(String userId, List<float[]> rows) {
        float[] flat = new float[rows.size() * RentalFeatures.COUNT];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, flat, i * RentalFeatures.COUNT, RentalFeatures.COUNT);
        }
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

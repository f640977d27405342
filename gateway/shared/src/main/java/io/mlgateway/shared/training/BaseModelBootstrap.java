package io.mlgateway.shared.training;

import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.modelstore.NewModel;
import java.util.List;
import java.util.Locale;
import io.mlgateway.shared.trees.ScoringModel;
import io.mlgateway.shared.trees.TreeModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Ensures the registry holds the base model: trained from the 2011 rows of hour.csv the first time, found
 * thereafter. Several instances starting at once serialize on a per-user advisory lock in PostgreSQL, so exactly
 * one trains and stores; the others find its result.
 */
public class BaseModelBootstrap {

    private static final Logger log = LoggerFactory.getLogger(BaseModelBootstrap.class);

    private final ModelRegistry registry;
    private final Scheduler trainingScheduler;

    public BaseModelBootstrap(ModelRegistry registry, Scheduler trainingScheduler) {
        this.registry = registry;
        this.trainingScheduler = trainingScheduler;
    }

    /** The base model's metadata, training and storing it first if the registry has none. */
    public Mono<ModelRecord> ensureBaseModel() {
        return registry.withUserLock(ModelRegistry.BASE_USER,
                registry.currentMetadata(ModelRegistry.BASE_USER)
                        .doOnNext(existing -> log.info("base model present: version {}", existing.version()))
                        .switchIfEmpty(Mono.defer(() -> Mono.fromCallable(BaseModelBootstrap::train)
                                .subscribeOn(trainingScheduler)
                                .flatMap(model -> registry.store(model, null))
                                .map(ModelRecord::withoutBytes)
                                .doOnNext(stored -> log.info("base model trained and stored: version {}, metrics {}",
                                        stored.version(), stored.metrics())))));
    }

    /** Trains on 2011 (yr = 0); reports MAE on 2011 and on 2012, which it never saw. */
    static NewModel train() {
        List<BikeSharingData.Hour> hours = BikeSharingData.load();
        TrainingSet year2011 = TrainingSet.of(hours.stream().filter(BikeSharingData.Hour::isYear2011).toList());
        TrainingSet year2012 = TrainingSet.of(hours.stream().filter(h -> !h.isYear2011()).toList());
        TreeModel model = BoosterTrainer.fitStandalone(year2011, BoosterTrainer.BASE_ROUNDS);
        ScoringModel scoring = model.bind(null);
        String metrics = String.format(Locale.ROOT,
                "{\"mae_2011\": %.4f, \"mae_2012\": %.4f, \"train_rows\": %d, \"rounds\": %d}",
                BoosterTrainer.meanAbsoluteError(scoring, year2011), BoosterTrainer.meanAbsoluteError(scoring, year2012),
                year2011.rows(), BoosterTrainer.BASE_ROUNDS);
        return NewModel.of(ModelRegistry.BASE_USER, null, model, 0, metrics);
    }
}

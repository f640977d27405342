package io.mlgateway.retrain;

import io.mlgateway.core.modelstore.ModelRecord;
import io.mlgateway.core.modelstore.ModelRegistry;
import io.mlgateway.core.modelstore.NewModel;
import io.mlgateway.core.modelstore.StaleModelException;
import io.mlgateway.core.retrain.RetrainStore;
import io.mlgateway.core.retrain.Sample;
import java.util.List;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * One user's retrain, in the customer's order: check → read → fit → store → (evict → notify, via the outbox).
 * A failure at any step publishes status "failed" with its reason and leaves the user's actuals new (they are
 * marked used only in the store transaction), so nothing is skipped; a conflict with another retrainer is not a
 * failure: the winner's version stands and nothing is announced twice.
 */
@Component
public class RetrainPipeline {

    /** What one run did. */
    public enum Outcome { NOT_DUE, RETRAINED, FAILED, CONFLICT }

    private final RetrainStore store;
    private final ModelRegistry registry;
    private final ModelFitter fitter;
    private final OutboxRelay relay;
    private final RetrainEvents events;
    private final RetrainProperties properties;
    private final Scheduler training;

    public RetrainPipeline(RetrainStore store, ModelRegistry registry, ModelFitter fitter, OutboxRelay relay,
            RetrainEvents events, RetrainProperties properties, Scheduler trainingScheduler) {
        this.store = store;
        this.registry = registry;
        this.fitter = fitter;
        this.relay = relay;
        this.events = events;
        this.properties = properties;
        this.training = trainingScheduler;
    }

    public Mono<Outcome> run(String userId) {
        long started = System.nanoTime();
        return check(userId).flatMap(due -> !due ? Mono.just(Outcome.NOT_DUE)
                : read(userId)
                        .flatMap(samples -> current(userId).flatMap(model -> fit(userId, model, samples)
                                .flatMap(candidate -> store(userId, model, samples, candidate))))
                        .doOnNext(stored -> events.succeeded(userId, millisSince(started)))
                        .map(stored -> Outcome.RETRAINED)
                        .onErrorResume(StaleModelException.class, e -> {
                            events.conflict(userId, e.getMessage());
                            return Mono.just(Outcome.CONFLICT);
                        })
                        .onErrorResume(e -> fail(userId, reasonOf(e))))
                .doFinally(signal -> relay.kick());
    }

    /** 1. Check: enough new actuals, and no cool-down after a failure. */
    private Mono<Boolean> check(String userId) {
        return store.countNew(userId).zipWith(store.coolingDown(userId)).map(t -> {
            boolean due = t.getT1() >= properties.threshold() && !t.getT2();
            events.check(userId, t.getT1(), due);
            return due;
        });
    }

    /** 2. Read: the new actuals joined to their logged feature vectors. */
    private Mono<List<Sample>> read(String userId) {
        long started = System.nanoTime();
        return store.readNew(userId, properties.maxSamples()).collectList()
                .doOnNext(rows -> events.read(userId, rows.size(), millisSince(started)))
                .flatMap(rows -> rows.size() < properties.threshold()
                        ? Mono.error(new RetrainFailure("only " + rows.size() + " actuals joined to logged predictions"))
                        : Mono.just(rows));
    }

    /** The user's current model (the base model for a first retrain), with the base it is layered on. */
    private Mono<ModelFitter.Current> current(String userId) {
        return registry.current(userId)
                .switchIfEmpty(Mono.defer(() -> registry.current(ModelRegistry.BASE_USER)))
                .switchIfEmpty(Mono.error(() -> new RetrainFailure("no base model in the registry")))
                .flatMap(model -> model.baseVersion() == null ? Mono.just(new ModelFitter.Current(model, null))
                        : registry.version(model.baseVersion())
                                .switchIfEmpty(Mono.error(() -> new RetrainFailure("base version "
                                        + model.baseVersion() + " of model " + model.version() + " is missing")))
                                .map(base -> new ModelFitter.Current(model, base)));
    }

    /** 3. Fit (and validate) on the training scheduler, never on an event loop. */
    private Mono<ModelFitter.Candidate> fit(String userId, ModelFitter.Current current, List<Sample> samples) {
        boolean rebuild = current.model().numTrees() + properties.roundsPerUpdate() > properties.maxTrees();
        Mono<List<Sample>> window = rebuild
                ? store.readRecentUsed(userId, properties.rebuildWindow()).collectList()
                : Mono.just(List.of());
        return window.flatMap(recent -> Mono.fromCallable(() -> {
            long started = System.nanoTime();
            ModelFitter.Candidate candidate = fitter.fit(current, samples, recent);
            events.fit(userId, candidate.samplesUsed(), millisSince(started), candidate.trees(), candidate.rebuilt(),
                    candidate.maeBefore(), candidate.maeAfter());
            return candidate;
        }).subscribeOn(training)).flatMap(candidate -> candidate.accepted() ? Mono.just(candidate)
                : Mono.error(new RetrainFailure(String.format(java.util.Locale.ROOT,
                        "validation: holdout MAE %.2f > %.2f x current %.2f", candidate.maeAfter(),
                        properties.maxMaeRatio(), candidate.maeBefore()))));
    }

    /** 4. Store: version, head, consumed actuals and the announcement, in one transaction. */
    private Mono<ModelRecord> store(String userId, ModelFitter.Current current, List<Sample> samples,
            ModelFitter.Candidate candidate) {
        long started = System.nanoTime();
        ModelRecord replaced = current.model();
        Long expectedHead = replaced.isBase() ? null : replaced.version();
        NewModel model = NewModel.of(userId, replaced.version(), candidate.model(), candidate.baseTrees(),
                candidate.metrics());
        return store.commit(model, expectedHead, samples.stream().map(Sample::requestId).toList())
                .doOnNext(stored -> events.store(userId, stored.version(), stored.parentVersion(), millisSince(started)));
    }

    private Mono<Outcome> fail(String userId, String reason) {
        events.failed(userId, reason);
        return store.recordFailure(userId, reason, properties.failureCoolDown())
                .thenReturn(Outcome.FAILED)
                // Even the failure could not be recorded (database down): nothing changed, the sweep retries.
                .onErrorReturn(Outcome.FAILED);
    }

    private static String reasonOf(Throwable e) {
        return e instanceof RetrainFailure ? e.getMessage() : e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    /** An expected reason not to store a model (reported as status "failed"). */
    static final class RetrainFailure extends RuntimeException {

        RetrainFailure(String message) {
            super(message, null, false, false);
        }
    }
}

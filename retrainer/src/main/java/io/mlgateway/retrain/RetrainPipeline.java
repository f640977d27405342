package io.mlgateway.retrain;

import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.modelstore.NewModel;
import io.mlgateway.shared.modelstore.StaleModelException;
import java.util.List;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * One user's retrain, in the customer's order: check → read → fit → judge → store → (evict → notify, via the
 * outbox). The fitted challenger is promoted only if it beats the champion on held-out actuals; otherwise it is
 * stored as rejected and announced with status "rejected" and the reason, and the champion keeps serving. A failure
 * at any step publishes status "failed" with its reason and leaves the user's actuals new (they are marked used only
 * in the store transaction), so nothing is skipped; a conflict with another retrainer is not a failure: the winner's
 * version stands and nothing is announced twice. Retrainer instances share the users: a run holds the user's lock
 * in PostgreSQL ({@link RetrainStore#exclusively}), and an instance that finds it held leaves the user to the holder.
 */
@Component
public class RetrainPipeline {

    /** What one run did. */
    public enum Outcome { NOT_DUE, RETRAINED, REJECTED, FAILED, CONFLICT, BUSY }

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

    /** A retrain if the user has {@code threshold} new actuals (the customer's trigger). */
    public Mono<Outcome> run(String userId) {
        return run(userId, properties.threshold());
    }

    /**
     * A retrain if the user has at least {@code minimumActuals} new actuals: the drift trigger refits with the labelled
     * rows there are, fewer than the usual threshold.
     */
    public Mono<Outcome> run(String userId, int minimumActuals) {
        return store.exclusively(userId, Mono.defer(() -> retrain(userId, minimumActuals)), Outcome.BUSY)
                .doOnNext(outcome -> {
                    if (outcome == Outcome.BUSY) {
                        events.busy(userId);
                    }
                });
    }

    private Mono<Outcome> retrain(String userId, int minimumActuals) {
        long started = System.nanoTime();
        return check(userId, minimumActuals).flatMap(due -> !due ? Mono.just(Outcome.NOT_DUE)
                : read(userId, minimumActuals)
                        .flatMap(samples -> current(userId).flatMap(model -> fit(userId, model, samples)
                                .flatMap(candidate -> candidate.accepted()
                                        ? store(userId, model, samples, candidate).thenReturn(Outcome.RETRAINED)
                                        : reject(userId, model, samples, candidate).thenReturn(Outcome.REJECTED))))
                        .doOnNext(outcome -> events.finished(userId, outcome == Outcome.RETRAINED,
                                millisSince(started)))
                        .onErrorResume(StaleModelException.class, e -> {
                            events.conflict(userId, e.getMessage());
                            return Mono.just(Outcome.CONFLICT);
                        })
                        .onErrorResume(e -> fail(userId, reasonOf(e))))
                .doFinally(signal -> relay.kick());
    }

    /** 1. Check: enough new actuals, and no cool-down after a failure. */
    private Mono<Boolean> check(String userId, int minimumActuals) {
        return store.countNew(userId).zipWith(store.coolingDown(userId)).map(t -> {
            boolean due = t.getT1() >= minimumActuals && !t.getT2();
            events.check(userId, t.getT1(), due);
            return due;
        });
    }

    /** 2. Read: the new actuals joined to their logged feature vectors. */
    private Mono<List<Sample>> read(String userId, int minimumActuals) {
        long started = System.nanoTime();
        return store.readNew(userId, properties.maxSamples()).collectList()
                .doOnNext(rows -> events.read(userId, rows.size(), millisSince(started)))
                .flatMap(rows -> rows.size() < minimumActuals
                        ? Mono.error(new RetrainFailure("only " + rows.size() + " actuals joined to logged predictions"))
                        : Mono.just(rows));
    }

    /**
     * The champion (the user's current model, the shared base for a first retrain), the base it is layered on, the
     * shared base now, and the model the champion replaced (for the live comparison).
     */
    private Mono<ModelFitter.Current> current(String userId) {
        Mono<ModelRecord> sharedBase = registry.current(ModelRegistry.BASE_USER)
                .switchIfEmpty(Mono.error(() -> new RetrainFailure("no base model in the registry")));
        return sharedBase.flatMap(shared -> registry.current(userId).defaultIfEmpty(shared)
                .flatMap(model -> baseOf(model, shared)
                        .map(java.util.Optional::of).defaultIfEmpty(java.util.Optional.empty())
                        .zipWith(predecessorOf(model).map(java.util.Optional::of)
                                .defaultIfEmpty(java.util.Optional.empty()))
                        .map(t -> new ModelFitter.Current(model, t.getT1().orElse(null), shared,
                                t.getT2().orElse(null)))));
    }

    private Mono<ModelRecord> baseOf(ModelRecord model, ModelRecord shared) {
        if (model.baseVersion() == null) {
            return Mono.empty();
        }
        return model.baseVersion() == shared.version() ? Mono.just(shared)
                : registry.version(model.baseVersion()).switchIfEmpty(Mono.error(() -> new RetrainFailure(
                        "base version " + model.baseVersion() + " of model " + model.version() + " is missing")));
    }

    /** The version the champion replaced (empty for the shared base itself). */
    private Mono<ModelRecord> predecessorOf(ModelRecord model) {
        return model.isBase() || model.parentVersion() == null ? Mono.empty() : registry.version(model.parentVersion());
    }

    /** 3. Fit the challenger and judge it against the champion, on the training scheduler, never on an event loop. */
    private Mono<ModelFitter.Candidate> fit(String userId, ModelFitter.Current current, List<Sample> samples) {
        int windowNeeded = fitter.windowNeeded(current);
        Mono<List<Sample>> window = windowNeeded > 0
                ? store.readRecentUsed(userId, windowNeeded).collectList()
                : Mono.just(List.of());
        return window.flatMap(recent -> Mono.fromCallable(() -> {
            long started = System.nanoTime();
            ModelFitter.Candidate candidate = fitter.fit(current, samples, recent);
            events.fit(userId, candidate.samplesUsed(), millisSince(started), candidate.trees(), candidate.rebuilt(),
                    candidate.maeBefore(), candidate.maeAfter(), candidate.accepted());
            events.live(userId, current.model().version(), candidate.live(),
                    candidate.live().regressed(properties.liveRegressionTolerance()));
            return candidate;
        }).subscribeOn(training));
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

    /** 4'. A challenger that lost: stored as rejected with both models' figures, announced; the champion stays. */
    private Mono<ModelRecord> reject(String userId, ModelFitter.Current current, List<Sample> samples,
            ModelFitter.Candidate candidate) {
        long started = System.nanoTime();
        String reason = String.format(java.util.Locale.ROOT,
                "challenger's held-out MAE %.2f > %.2f x champion %d's %.2f", candidate.maeAfter(),
                properties.maxMaeRatio(), current.model().version(), candidate.maeBefore());
        NewModel model = NewModel.of(userId, current.model().version(), candidate.model(), candidate.baseTrees(),
                candidate.metrics());
        return store.reject(model, samples.stream().map(Sample::requestId).toList(), reason)
                .doOnNext(stored -> events.rejected(userId, stored.version(), current.model().version(), reason,
                        millisSince(started)));
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

package io.mlgateway.retrain;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.mlgateway.shared.lifecycle.SubscriptionLifecycle;
import io.mlgateway.retrain.drift.DriftCheck;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Every {@code retrainer.drift.interval}, compares each active user's latest requests with its model's training
 * reference. When a user crosses above the threshold it is refitted with the new actuals there are (at least
 * {@code min-actuals}), once: the crossing is remembered in {@code retrain_state.drift_above} until drift falls
 * back below the threshold or a new model, with a new reference, is promoted.
 */
@Component
public class DriftMonitor extends SubscriptionLifecycle {

    private static final Logger log = LoggerFactory.getLogger("retrain");

    /** What one check of one user found and did. */
    public enum Result { BELOW, STILL_ABOVE, CROSSED, TOO_FEW_REQUESTS }

    private final RetrainStore store;
    private final RetrainPipeline pipeline;
    private final RetrainProperties.Drift properties;
    private final Scheduler training;
    private final DistributionSummary psi;
    private final Counter crossings;
    private final AtomicLong above = new AtomicLong();

    public DriftMonitor(RetrainStore store, RetrainPipeline pipeline, RetrainProperties properties,
            Scheduler trainingScheduler, MeterRegistry meters) {
        this.store = store;
        this.pipeline = pipeline;
        this.properties = properties.drift();
        this.training = trainingScheduler;
        // One distribution over all users (never a per-user label): how many drift, and how far.
        this.psi = DistributionSummary.builder("retrainer.drift.psi")
                .description("largest per-feature PSI of each checked user's recent requests vs its model's reference")
                .serviceLevelObjectives(0.05, 0.1, 0.2, 0.5, 1, 2, 5).register(meters);
        this.crossings = Counter.builder("retrainer.drift.crossings")
                .description("users whose drift crossed above the threshold (each triggers one refit)").register(meters);
        Gauge.builder("retrainer.drift.users.above", above, AtomicLong::get)
                .description("users above the drift threshold at the last sweep").register(meters);
    }

    @Override
    protected Disposable subscribe() {
        return Flux.interval(properties.interval(), properties.interval())
                .onBackpressureDrop()
                .concatMap(tick -> sweep().onErrorResume(e -> {
                    log.warn("drift sweep failed (database unreachable?): {}", e.toString());
                    return Mono.empty();
                }))
                .subscribe();
    }

    /** Checks every active user once; the number found above the threshold. */
    public Mono<Long> sweep() {
        return store.driftCandidates(properties.active())
                .concatMap(this::check)
                .filter(result -> result == Result.CROSSED || result == Result.STILL_ABOVE)
                .count()
                .doOnNext(above::set);
    }

    Mono<Result> check(RetrainStore.DriftCandidate user) {
        return store.recentFeatures(user.userId(), user.since(), properties.recentRequests()).collectList()
                .flatMap(recent -> {
                    if (recent.size() < properties.minRequests()) {
                        return Mono.just(Result.TOO_FEW_REQUESTS);
                    }
                    return Mono.fromCallable(() -> DriftCheck.of(user.reference(), recent)).subscribeOn(training)
                            .flatMap(drift -> act(user, drift, recent.size()));
                });
    }

    private Mono<Result> act(RetrainStore.DriftCandidate user, DriftCheck.Drift drift, int requests) {
        psi.record(drift.psi());
        boolean isAbove = drift.psi() > properties.threshold();
        if (isAbove == user.driftAbove()) {
            return Mono.just(isAbove ? Result.STILL_ABOVE : Result.BELOW);
        }
        if (!isAbove) {
            return store.setDriftAbove(user.userId(), false).thenReturn(Result.BELOW);
        }
        crossings.increment();
        log.atInfo().addKeyValue("event", "retrain.drift").addKeyValue("user_id", user.userId())
                .addKeyValue("version", user.version()).addKeyValue("psi", drift.psi())
                .addKeyValue("feature", drift.feature()).addKeyValue("threshold", properties.threshold())
                .addKeyValue("requests", requests).addKeyValue("reason", "drift")
                .log("drift {} on {} above {}: refitting with the actuals there are", drift.psi(), drift.feature(),
                        properties.threshold());
        // Remembered first: a crash after this skips this crossing's refit rather than refitting on every sweep.
        return store.setDriftAbove(user.userId(), true)
                .then(pipeline.run(user.userId(), properties.minActuals()))
                .doOnNext(outcome -> log.atInfo().addKeyValue("event", "retrain.drift_refit")
                        .addKeyValue("user_id", user.userId()).addKeyValue("outcome", outcome.name().toLowerCase(java.util.Locale.ROOT))
                        .addKeyValue("reason", "drift").log("drift refit: {}", outcome))
                .thenReturn(Result.CROSSED);
    }

}

package io.mlgateway.retrain;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.mlgateway.shared.lifecycle.SubscriptionLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Decides who to retrain when: users named by LISTEN notifications as actuals arrive, plus a periodic sweep for
 * users due (missed notifications, restarts). Several users retrain at once, up to {@code concurrency}; one
 * user never twice at once in this process (a trigger for a user in flight is remembered and run after it), nor
 * across processes (the pipeline holds the user's lock in PostgreSQL; the registry's compare-and-set and the
 * exactly-once marking of actuals guard a lock lost with its session).
 */
@Component
public class RetrainScheduler extends SubscriptionLifecycle {

    private static final Logger log = LoggerFactory.getLogger(RetrainScheduler.class);

    private final ActualsListener listener;
    private final RetrainStore store;
    private final RetrainPipeline pipeline;
    private final RetrainProperties properties;
    /** A user's run in this process, and whether a trigger came for it meanwhile. */
    private enum Run { RUNNING, RERUN_ASKED }

    /**
     * Users with a run in progress in this process. Claims and releases are compare-and-set loops on the user's
     * entry, so a trigger racing with the end of a run is never lost: either the run sees it and goes once more, or
     * the trigger finds the user released and claims it. (Handing re-runs over through a sink lost them: its
     * tryEmitNext fails with FAIL_NON_SERIALIZED when two runs end at once on two threads.)
     */
    private final ConcurrentHashMap<String, Run> inFlight = new ConcurrentHashMap<>();
    private final AtomicLong pending = new AtomicLong();
    private final AtomicLong backlog = new AtomicLong();

    public RetrainScheduler(ActualsListener listener, RetrainStore store, RetrainPipeline pipeline,
            RetrainProperties properties, MeterRegistry meters) {
        this.listener = listener;
        this.store = store;
        this.pipeline = pipeline;
        this.properties = properties;
        Gauge.builder("retrainer.pending.actuals", pending, AtomicLong::get)
                .description("actuals not yet used by any model version").register(meters);
        Gauge.builder("retrainer.outbox.backlog", backlog, AtomicLong::get)
                .description("retrain announcements not yet sent").register(meters);
    }

    @Override
    protected Disposable subscribe() {
        Flux<String> sweep = Flux.interval(Duration.ZERO, properties.sweepInterval())
                .onBackpressureDrop()
                .concatMap(tick -> store.usersDue(properties.threshold()).map(RetrainStore.Due::userId)
                        .concatWith(refreshGauges())
                        .onErrorResume(e -> {
                            log.warn("retrain sweep failed (database unreachable?): {}", e.toString());
                            return Flux.empty();
                        }));
        return Flux.merge(listener.userIds(), sweep)
                .filter(this::claim)
                .flatMap(user -> Mono.defer(() -> pipeline.run(user))
                                .onErrorResume(e -> {
                                    log.error("retrain pipeline error", e);
                                    return Mono.empty();
                                })
                                // Once more, in the same slot, if a trigger for the user came during the run.
                                .repeat(() -> runAgain(user))
                                .doOnCancel(() -> inFlight.remove(user)),
                        properties.concurrency())
                .subscribe();
    }

    /** True if this call may run the user now; otherwise the run in progress is asked to go once more after. */
    private boolean claim(String user) {
        while (true) {
            if (inFlight.putIfAbsent(user, Run.RUNNING) == null) {
                return true;
            }
            if (inFlight.replace(user, Run.RUNNING, Run.RERUN_ASKED) || inFlight.get(user) == Run.RERUN_ASKED) {
                return false;
            }
            // The run ended (or took its re-run) between the two looks: try again.
        }
    }

    /** After a run: true if a trigger came meanwhile (the user stays claimed for one more run), else releases. */
    private boolean runAgain(String user) {
        while (true) {
            if (inFlight.replace(user, Run.RERUN_ASKED, Run.RUNNING)) {
                return true;
            }
            if (inFlight.remove(user, Run.RUNNING) || !inFlight.containsKey(user)) {
                return false;
            }
            // A trigger asked for a re-run between the two looks: take it.
        }
    }

    private Flux<String> refreshGauges() {
        return store.pendingActuals().doOnNext(pending::set)
                .then(store.outboxBacklog().doOnNext(backlog::set))
                .thenMany(Flux.empty());
    }

}

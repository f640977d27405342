package io.mlgateway.retrain;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.mlgateway.core.retrain.RetrainStore;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Decides who to retrain when: users named by LISTEN notifications as actuals arrive, plus a periodic sweep for
 * users due (missed notifications, restarts). Several users retrain at once, up to {@code concurrency}; one
 * user never twice at once in this process (a trigger for a user in flight is remembered and run after it), and
 * across processes the registry's compare-and-set and the exactly-once marking of actuals decide.
 */
@Component
public class RetrainScheduler implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(RetrainScheduler.class);

    private final ActualsListener listener;
    private final RetrainStore store;
    private final RetrainPipeline pipeline;
    private final RetrainProperties properties;
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private final Set<String> again = ConcurrentHashMap.newKeySet();
    private final Sinks.Many<String> reruns = Sinks.many().unicast().onBackpressureBuffer();
    private final AtomicLong pending = new AtomicLong();
    private final AtomicLong backlog = new AtomicLong();
    private volatile Disposable running;

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
    public void start() {
        Flux<String> sweep = Flux.interval(Duration.ZERO, properties.sweepInterval())
                .onBackpressureDrop()
                .concatMap(tick -> store.usersDue(properties.threshold()).map(RetrainStore.Due::userId)
                        .concatWith(refreshGauges())
                        .onErrorResume(e -> {
                            log.warn("retrain sweep failed (database unreachable?): {}", e.toString());
                            return Flux.empty();
                        }));
        running = Flux.merge(listener.userIds(), sweep, reruns.asFlux())
                .filter(this::claim)
                .flatMap(user -> pipeline.run(user)
                                .onErrorResume(e -> {
                                    log.error("retrain pipeline error", e);
                                    return Mono.empty();
                                })
                                .doFinally(signal -> release(user)),
                        properties.concurrency())
                .subscribe();
    }

    /** True if this call may run the user now; otherwise it is queued to run once more after the current run. */
    private boolean claim(String user) {
        if (inFlight.add(user)) {
            return true;
        }
        again.add(user);
        return false;
    }

    private void release(String user) {
        inFlight.remove(user);
        if (again.remove(user)) {
            reruns.tryEmitNext(user);
        }
    }

    private Flux<String> refreshGauges() {
        return store.pendingActuals().doOnNext(pending::set)
                .then(store.outboxBacklog().doOnNext(backlog::set))
                .thenMany(Flux.empty());
    }

    @Override
    public void stop() {
        Disposable d = running;
        if (d != null) {
            d.dispose();
        }
        running = null;
    }

    @Override
    public boolean isRunning() {
        return running != null;
    }
}

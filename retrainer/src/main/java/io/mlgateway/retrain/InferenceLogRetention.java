package io.mlgateway.retrain;

import io.mlgateway.shared.inferencelog.PredictionPartitions;
import io.mlgateway.shared.lifecycle.SubscriptionLifecycle;
import java.time.LocalDate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Keeps the inference log bounded: every {@code retrainer.inference-log.interval}, creates the partitions of the
 * coming days and drops the days past the retention that hold nothing training still needs. Several retrainers may
 * run it at once: the database functions serialize on a lock and re-check under it.
 */
@Component
public class InferenceLogRetention extends SubscriptionLifecycle {

    private static final Logger log = LoggerFactory.getLogger("retrain");

    private final PredictionPartitions partitions;
    private final InferenceLogRetentionProperties properties;
    private final int window;
    private final Supplier<LocalDate> today;

    @Autowired
    public InferenceLogRetention(DatabaseClient db, InferenceLogRetentionProperties properties,
            RetrainProperties retrain) {
        this(new PredictionPartitions(db), properties, retrain.window(), PredictionPartitions::today);
    }

    InferenceLogRetention(PredictionPartitions partitions, InferenceLogRetentionProperties properties, int window,
            Supplier<LocalDate> today) {
        this.partitions = partitions;
        this.properties = properties;
        this.window = window;
        this.today = today;
    }

    @Override
    protected Disposable subscribe() {
        return Flux.interval(java.time.Duration.ZERO, properties.interval())
                .onBackpressureDrop()
                .concatMap(tick -> maintain().onErrorResume(e -> {
                    log.warn("inference log maintenance failed (database unreachable?): {}", e.toString());
                    return Mono.empty();
                }))
                .subscribe();
    }

    /** One pass: the coming days created, the expired days dropped where nothing needs them. */
    public Mono<Result> maintain() {
        LocalDate now = today.get();
        // A day is expired once its last instant is older than the retention.
        LocalDate lastExpired = now.minusDays(properties.retention().toDays() + 1);
        return partitions.ensure(now, now.plusDays(properties.daysAhead()))
                .flatMap(created -> partitions.days()
                        .filter(day -> !day.isAfter(lastExpired))
                        .concatMap(day -> partitions.dropDay(day, window)
                                .doOnNext(dropped -> log.info(dropped
                                        ? "inference log: dropped day {} (past the retention of {}), with its actuals"
                                        : "inference log: kept day {} past the retention of {}: it holds rows training"
                                                + " still needs", day, properties.retention())))
                        .reduce(new int[2], (counts, dropped) -> {
                            counts[dropped ? 0 : 1]++;
                            return counts;
                        })
                        .map(counts -> new Result(created, counts[0], counts[1])))
                .doOnNext(result -> log.info("inference log maintained: {} partitions created, {} days dropped, {}"
                        + " expired days kept", result.created(), result.dropped(), result.kept()));
    }

    /** What one pass did. */
    public record Result(int created, int dropped, int kept) {
    }
}

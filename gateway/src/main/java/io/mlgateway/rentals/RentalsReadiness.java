package io.mlgateway.rentals;

import io.mlgateway.errors.UnavailableException;
import io.mlgateway.shared.inferencelog.PredictionPartitions;
import io.mlgateway.shared.lifecycle.SubscriptionLifecycle;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.schema.SchemaMigrations;
import io.mlgateway.shared.storage.DatabaseProperties;
import io.mlgateway.shared.training.BaseModelBootstrap;
import io.mlgateway.modelstore.ModelCacheProperties;
import io.mlgateway.modelstore.ModelLoader;
import io.mlgateway.modelstore.MemoryTier;
import io.mlgateway.modelstore.ModelResolver;
import io.mlgateway.modelstore.RecentUsers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

/**
 * Brings rentals up in the background, in order:
 * <ol>
 *   <li>the schema migrations (the gateway owns them) and the base model, bootstrapped if the registry has none,
 *       retried until PostgreSQL answers;</li>
 *   <li>the base model loaded into memory: from here on rentals can score ({@link #canScore()});</li>
 *   <li>the warm-up: the models of the users the fleet served recently ({@link RecentUsers}), loaded in few
 *       registry queries, for at most {@code gateway.model-cache.warm-up.timeout};</li>
 * </ol>
 * then the instance is ready ({@link #isReady()}, the {@code rentals} member of the readiness health group), so a
 * load balancer sends it traffic only once it can answer that traffic from memory. Until step 2, rentals requests
 * get 503 + Retry-After while regno is served as usual.
 */
@Component
public class RentalsReadiness extends SubscriptionLifecycle {

    private static final Logger log = LoggerFactory.getLogger(RentalsReadiness.class);

    /** Where start-up stands. */
    public enum Phase { STARTING, WARMING, READY }

    /** What the warm-up did. */
    public record WarmUp(int recentUsers, long loaded, long millis, boolean timedOut) {
    }

    private final DatabaseProperties database;
    private final ModelRegistry registry;
    private final PredictionPartitions partitions;
    private final RentalsProperties properties;
    private final ModelLoader loader;
    private final ModelResolver resolver;
    private final MemoryTier memory;
    private final RecentUsers recentUsers;
    private final Duration warmUpTimeout;
    private volatile Phase phase = Phase.STARTING;
    private volatile WarmUp warmUp;

    public RentalsReadiness(DatabaseProperties database, ModelRegistry registry, DatabaseClient db,
            RentalsProperties properties, ModelLoader loader, ModelResolver resolver, MemoryTier memory,
            RecentUsers recentUsers, ModelCacheProperties cache) {
        this.database = database;
        this.registry = registry;
        this.partitions = new PredictionPartitions(db);
        this.properties = properties;
        this.loader = loader;
        this.resolver = resolver;
        this.memory = memory;
        this.recentUsers = recentUsers;
        this.warmUpTimeout = cache.warmUp().timeout();
    }

    /** The store prepared ({@link #prepareStore}) and the base model loaded; fine to repeat. */
    public Mono<Void> prepare() {
        return prepareStore(database, registry, partitions).then(loader.refreshBase()).then();
    }

    /**
     * The schema migrated, the inference log's partitions of today and tomorrow there (so this gateway can log to a
     * day's partition even if no retrainer maintains them; the retrainer creates the days further ahead), and the
     * base model stored, trained first if the registry has none; idempotent.
     */
    public static Mono<Void> prepareStore(DatabaseProperties database, ModelRegistry registry,
            PredictionPartitions partitions) {
        return Mono.fromCallable(() -> SchemaMigrations.migrate(SchemaMigrations.jdbcUrlOf(database.url()),
                        database.username(), database.password()))
                .subscribeOn(Schedulers.boundedElastic())
                .doOnNext(result -> log.info(result.migrationsExecuted == 0 ? "rentals schema up to date"
                        : "rentals schema migrated to version " + result.targetSchemaVersion + " ("
                                + result.migrationsExecuted + " migrations applied)"))
                .then(Mono.defer(() -> partitions.ensure(PredictionPartitions.today(),
                        PredictionPartitions.today().plusDays(1))))
                .then(new BaseModelBootstrap(registry, Schedulers.boundedElastic()).ensureBaseModel())
                .then();
    }

    /** Loads the recently active users' models, within the timeout; never fails. */
    Mono<WarmUp> warmUp() {
        return Mono.defer(() -> warmUp(System.nanoTime()));
    }

    private Mono<WarmUp> warmUp(long started) {
        return recentUsers.read()
                .onErrorResume(e -> {
                    log.warn("recent users unavailable, starting without warm-up: {}", e.toString());
                    return Mono.just(List.of());
                })
                .flatMap(users -> resolver.preload(users)
                        .map(loaded -> new WarmUp(users.size(), loaded, millisSince(started), false))
                        .timeout(warmUpTimeout, Mono.fromSupplier(() ->
                                new WarmUp(users.size(), memory.size(), millisSince(started), true)))
                        .onErrorResume(e -> !(e instanceof TimeoutException), e -> {
                            log.warn("warm-up failed after {} ms: {}", millisSince(started), e.toString());
                            return Mono.just(new WarmUp(users.size(), 0, millisSince(started), false));
                        }));
    }

    @Override
    protected Disposable subscribe() {
        return prepare()
                .retryWhen(Retry.fixedDelay(Long.MAX_VALUE, properties.startupRetry())
                        .doBeforeRetry(s -> log.warn("rentals store not ready, retrying in {}: {}",
                                properties.startupRetry(), s.failure().toString())))
                .then(Mono.fromRunnable(() -> {
                    phase = Phase.WARMING;
                    log.info("rentals store ready: base model version {} loaded", loader.loadedBase().version());
                }))
                .then(warmUp())
                .subscribe(done -> {
                    warmUp = done;
                    phase = Phase.READY;
                    log.atInfo().addKeyValue("event", "rentals.ready").addKeyValue("recent_users", done.recentUsers())
                            .addKeyValue("loaded", done.loaded()).addKeyValue("warm_up_ms", done.millis())
                            .addKeyValue("timed_out", done.timedOut())
                            .log("rentals ready: warmed {} of {} recent users in {} ms{}", done.loaded(),
                                    done.recentUsers(), done.millis(), done.timedOut() ? " (timed out)" : "");
                }, e -> log.error("rentals start-up gave up", e));
    }

    public Phase phase() {
        return phase;
    }

    /** What the warm-up did, once it is over; null before. */
    public WarmUp lastWarmUp() {
        return warmUp;
    }

    /** Rentals can score: the store is up and the base model is in memory. */
    public boolean canScore() {
        return phase != Phase.STARTING;
    }

    /** Started and warmed up: what readiness reports. */
    public boolean isReady() {
        return phase == Phase.READY;
    }

    /** Completes at once when rentals can score, errors with a 503-mapped failure otherwise. */
    public Mono<Void> requireReady() {
        return canScore() ? Mono.empty()
                : Mono.error(new UnavailableException("rentals store not ready (database unreachable or migrating)"));
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}

package io.mlgateway.rentals;

import io.mlgateway.api.UnavailableException;
import io.mlgateway.core.modelstore.ModelRegistry;
import io.mlgateway.core.schema.SchemaMigrations;
import io.mlgateway.core.training.BaseModelBootstrap;
import io.mlgateway.core.storage.DatabaseProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.mlgateway.core.lifecycle.SubscriptionLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

/**
 * Brings the rentals store up in the background: applies the schema migrations (the gateway owns them) and
 * bootstraps the base model if the registry has none, retrying until PostgreSQL answers. Until then rentals
 * requests get 503 + Retry-After while regno is served as usual.
 */
@Component
public class RentalsReadiness extends SubscriptionLifecycle {

    private static final Logger log = LoggerFactory.getLogger(RentalsReadiness.class);

    private final DatabaseProperties database;
    private final ModelRegistry registry;
    private final RentalsProperties properties;
    private volatile boolean ready;

    public RentalsReadiness(DatabaseProperties database, ModelRegistry registry, RentalsProperties properties) {
        this.database = database;
        this.registry = registry;
        this.properties = properties;
    }

    /** Migrations then the base model; runs once per attempt, fine to repeat (both are idempotent). */
    public Mono<Void> prepare() {
        return Mono.fromCallable(() -> SchemaMigrations.migrate(SchemaMigrations.jdbcUrlOf(database.url()),
                        database.username(), database.password()))
                .subscribeOn(Schedulers.boundedElastic())
                .doOnNext(result -> log.info(result.migrationsExecuted == 0 ? "rentals schema up to date"
                        : "rentals schema migrated to version " + result.targetSchemaVersion + " ("
                                + result.migrationsExecuted + " migrations applied)"))
                .then(new BaseModelBootstrap(registry, Schedulers.boundedElastic()).ensureBaseModel())
                .then();
    }

    @Override
    protected Disposable subscribe() {
        return prepare()
                .retryWhen(Retry.fixedDelay(Long.MAX_VALUE, properties.startupRetry())
                        .doBeforeRetry(s -> log.warn("rentals store not ready, retrying in {}: {}",
                                properties.startupRetry(), s.failure().toString())))
                .subscribe(done -> { }, e -> log.error("rentals start-up gave up", e), () -> {
                    ready = true;
                    log.info("rentals store ready");
                });
    }

    public boolean isReady() {
        return ready;
    }

    /** Completes at once when ready, errors with a 503-mapped failure otherwise. */
    public Mono<Void> requireReady() {
        return ready ? Mono.empty()
                : Mono.error(new UnavailableException("rentals store not ready (database unreachable or migrating)"));
    }
}

package io.mlgateway.retrain;

import io.mlgateway.shared.inferencelog.PredictionTable;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.modelstore.NewModel;
import io.mlgateway.shared.modelstore.StaleModelException;
import io.mlgateway.shared.notify.ModelRetrainedMessage;
import io.mlgateway.shared.notify.OutboxEntry;
import io.mlgateway.shared.notify.RetrainOutbox;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Readable;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The retrainer's SQL: new actuals per user, the samples to fit, and the commit of a new version together with
 * everything that must change with it. "New" means not yet used by any stored version ({@code used_in_version
 * IS NULL}); marking happens in the same transaction as the store, so an actual trains exactly one update.
 */
public class RetrainStore {

    /** A user and how many new actuals it has. */
    public record Due(String userId, long count) {
    }

    /**
     * A user whose model carries a training reference, for the drift check.
     *
     * @param reference  the model's {@code metrics.reference} (JSON)
     * @param since      when the model was stored: only requests served after it are compared
     * @param driftAbove whether the last check found the user above the threshold
     */
    public record DriftCandidate(String userId, long version, String reference, OffsetDateTime since,
            boolean driftAbove) {
    }

    /** Actuals joined to the predictions they answer: what {@link #toSample} reads. */
    private static final String SAMPLES = "SELECT a.id, a.request_id, a.actual_value, p.features, p.prediction,"
            + " p.model_version FROM actual_rentals a JOIN rental_predictions p ON p.request_id = a.request_id";

    private final DatabaseClient db;
    private final TransactionalOperator tx;
    private final ModelRegistry registry;
    private final RetrainOutbox outbox;

    public RetrainStore(DatabaseClient db, TransactionalOperator tx, ModelRegistry registry) {
        this.db = db;
        this.tx = tx;
        this.registry = registry;
        this.outbox = new RetrainOutbox(db);
    }

    /** New actuals of one user (the "check" step). */
    public Mono<Long> countNew(String userId) {
        return db.sql("SELECT count(*) AS n FROM actual_rentals WHERE user_id = $1 AND used_in_version IS NULL")
                .bind(0, userId)
                .map(row -> row.get("n", Long.class))
                .one();
    }

    /** Users with at least {@code threshold} new actuals and no failure cool-down running (the sweep). */
    public Flux<Due> usersDue(long threshold) {
        return db.sql("SELECT a.user_id, count(*) AS n FROM actual_rentals a"
                        + " LEFT JOIN retrain_state s ON s.user_id = a.user_id"
                        + " WHERE a.used_in_version IS NULL AND (s.retry_after IS NULL OR s.retry_after <= now())"
                        + " GROUP BY a.user_id HAVING count(*) >= $1")
                .bind(0, threshold)
                .map(row -> new Due(row.get("user_id", String.class), row.get("n", Long.class)))
                .all();
    }

    /** Users served a model of their own that has a training reference and who made requests within {@code active}. */
    public Flux<DriftCandidate> driftCandidates(Duration active) {
        return db.sql("SELECT h.user_id, m.version, m.created_at, m.metrics->'reference' AS reference,"
                        + " coalesce(s.drift_above, false) AS drift_above"
                        + " FROM rental_model_heads h JOIN rental_models m ON m.version = h.version"
                        + " LEFT JOIN retrain_state s ON s.user_id = h.user_id"
                        + " WHERE m.metrics ? 'reference' AND EXISTS (SELECT 1 FROM rental_predictions p"
                        + " WHERE p.user_id = h.user_id AND p.created_at > now() - make_interval(secs => $1))")
                .bind(0, (double) active.toMillis() / 1000.0)
                .map(row -> new DriftCandidate(row.get("user_id", String.class), row.get("version", Long.class),
                        row.get("reference", String.class), row.get("created_at", OffsetDateTime.class),
                        Boolean.TRUE.equals(row.get("drift_above", Boolean.class))))
                .all();
    }

    /** Feature vectors of the user's latest requests served since {@code since}, newest first. */
    public Flux<float[]> recentFeatures(String userId, OffsetDateTime since, int limit) {
        return db.sql("SELECT features FROM rental_predictions WHERE user_id = $1 AND created_at >= $2"
                        + " ORDER BY created_at DESC LIMIT $3")
                .bind(0, userId)
                .bind(1, since)
                .bind(2, limit)
                .map(PredictionTable::features)
                .all();
    }

    /** Records which side of the drift threshold the user was found on. */
    public Mono<Void> setDriftAbove(String userId, boolean above) {
        return db.sql("INSERT INTO retrain_state (user_id, drift_above) VALUES ($1, $2)"
                        + " ON CONFLICT (user_id) DO UPDATE SET drift_above = EXCLUDED.drift_above")
                .bind(0, userId).bind(1, above)
                .then();
    }

    /** Whether the user is cooling down after a failed retrain. */
    public Mono<Boolean> coolingDown(String userId) {
        return db.sql("SELECT retry_after > now() AS cooling FROM retrain_state WHERE user_id = $1")
                .bind(0, userId)
                .map(row -> Boolean.TRUE.equals(row.get("cooling", Boolean.class)))
                .one()
                .defaultIfEmpty(false);
    }

    /** The user's new actuals with their logged features, oldest first (the "read" step). */
    public Flux<Sample> readNew(String userId, int limit) {
        return db.sql(SAMPLES + " WHERE a.user_id = $1 AND a.used_in_version IS NULL ORDER BY a.id LIMIT $2")
                .bind(0, userId)
                .bind(1, limit)
                .map(RetrainStore::toSample)
                .all();
    }

    /** The user's most recent used actuals (for a rebuild from a window of recent data). */
    public Flux<Sample> readRecentUsed(String userId, int limit) {
        return db.sql(SAMPLES + " WHERE a.user_id = $1 AND a.used_in_version IS NOT NULL ORDER BY a.id DESC LIMIT $2")
                .bind(0, userId)
                .bind(1, limit)
                .map(RetrainStore::toSample)
                .all();
    }

    /**
     * Runs {@code work} while this process holds the user's retrain lock (a PostgreSQL session advisory lock), so two
     * retrainer instances never retrain one user at once: the second would fit for nothing and lose the
     * compare-and-set, or find the actuals it counted already used. Emits {@code busy} at once when another session
     * holds the lock. The lock lives on one pooled connection for the run and is released after it, whatever the
     * outcome (cancellation included); a retrainer that dies releases it with its session.
     */
    public <T> Mono<T> exclusively(String userId, Mono<T> work, T busy) {
        String key = "retrain:" + userId;
        return db.inConnection(connection -> Mono.usingWhen(
                advisory(connection, "pg_try_advisory_lock", key),
                locked -> locked ? work : Mono.just(busy),
                // An unlock that fails means the connection, and with it the session and its lock, is gone.
                locked -> locked ? advisory(connection, "pg_advisory_unlock", key).then().onErrorResume(e -> Mono.empty())
                        : Mono.empty()));
    }

    private static Mono<Boolean> advisory(Connection connection, String function, String key) {
        return Mono.from(connection.createStatement("SELECT " + function + "(hashtextextended($1, 0)) AS held")
                        .bind(0, key).execute())
                .flatMap(result -> Mono.from(result.map((row, metadata) -> row.get("held", Boolean.class))));
    }

    /**
     * Stores the new version and, atomically with it: moves the head (only from {@code expectedHead}), marks the
     * consumed actuals (all of them, or nothing happens), resets the user's failure state and queues the success
     * announcement in the outbox. Any conflict (another retrainer won) fails with {@link StaleModelException}
     * and changes nothing.
     */
    public Mono<ModelRecord> commit(NewModel model, Long expectedHead, List<UUID> consumed) {
        return registry.store(model, expectedHead)
                .flatMap(record -> markUsed(record, consumed, model.userId(), expectedHead))
                .flatMap(record -> db.sql("INSERT INTO retrain_state (user_id, last_update, last_version, failures)"
                                + " VALUES ($1, now(), $2, 0) ON CONFLICT (user_id) DO UPDATE SET last_update = now(),"
                                + " last_version = EXCLUDED.last_version, failures = 0, last_failure = NULL,"
                                + " retry_after = NULL, drift_above = false")
                        .bind(0, model.userId()).bind(1, record.version())
                        .then()
                        .then(outbox.enqueue(model.userId(), ModelRetrainedMessage.SUCCESS, record.version(), null))
                        .thenReturn(record))
                .as(tx::transactional);
    }

    /**
     * Stores a challenger that lost to the champion, with status rejected, and atomically: marks the actuals it
     * consumed (they stay in later windows, but do not trigger another retrain), and queues the rejection's
     * announcement. The head does not move.
     */
    public Mono<ModelRecord> reject(NewModel model, List<UUID> consumed, String reason) {
        return registry.storeRejected(model)
                .flatMap(record -> markUsed(record, consumed, model.userId(), null))
                .flatMap(record -> outbox.enqueue(model.userId(), ModelRetrainedMessage.REJECTED, record.version(), reason)
                        .thenReturn(record))
                .as(tx::transactional);
    }

    private Mono<ModelRecord> markUsed(ModelRecord record, List<UUID> consumed, String userId, Long expectedHead) {
        return db.sql("UPDATE actual_rentals SET used_in_version = $1"
                        + " WHERE request_id = ANY($2::text[]::uuid[]) AND used_in_version IS NULL")
                .bind(0, record.version())
                .bind(1, consumed.stream().map(UUID::toString).toArray(String[]::new))
                .fetch().rowsUpdated()
                .flatMap(marked -> marked == consumed.size() ? Mono.just(record)
                        : Mono.error(new StaleModelException(userId, expectedHead)));
    }

    /** Records a failed retrain: a cool-down before the next attempt, and the failure announcement queued. */
    public Mono<Void> recordFailure(String userId, String reason, Duration coolDown) {
        return db.sql("INSERT INTO retrain_state (user_id, failures, last_failure, retry_after)"
                        + " VALUES ($1, 1, $2, now() + make_interval(secs => $3))"
                        + " ON CONFLICT (user_id) DO UPDATE SET failures = retrain_state.failures + 1,"
                        + " last_failure = EXCLUDED.last_failure, retry_after = EXCLUDED.retry_after")
                .bind(0, userId).bind(1, reason).bind(2, (double) coolDown.toMillis() / 1000.0)
                .then()
                .then(outbox.enqueue(userId, ModelRetrainedMessage.FAILED, null, reason))
                .as(tx::transactional);
    }

    /** Announcements not yet sent, oldest first. */
    public Flux<OutboxEntry> unpublished(int limit) {
        return outbox.unpublished(limit);
    }

    public Mono<Void> markPublished(long id) {
        return outbox.markPublished(id);
    }

    /** Announcements waiting (for the backlog metric). */
    public Mono<Long> outboxBacklog() {
        return outbox.backlog();
    }

    /** New actuals over all users (for the pending metric). */
    public Mono<Long> pendingActuals() {
        return db.sql("SELECT count(*) AS n FROM actual_rentals WHERE used_in_version IS NULL")
                .map(row -> row.get("n", Long.class)).one();
    }

    private static Sample toSample(Readable row) {
        return new Sample(row.get("id", Long.class), row.get("request_id", UUID.class), PredictionTable.features(row),
                row.get("actual_value", Double.class).floatValue(), row.get("prediction", Double.class),
                row.get("model_version", Long.class));
    }
}

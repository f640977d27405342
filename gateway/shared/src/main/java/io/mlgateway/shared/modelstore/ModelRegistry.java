package io.mlgateway.shared.modelstore;

import io.r2dbc.postgresql.codec.Json;
import io.r2dbc.spi.Readable;
import java.nio.ByteBuffer;
import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The versioned model registry in PostgreSQL, the source of truth for every model: {@code rental_models} holds
 * all versions, {@code rental_model_heads} the one each user is served. All SQL on those tables lives here.
 */
public class ModelRegistry {

    /** Owner id of the shared base model; user ids are validated never to start with '_'. */
    public static final String BASE_USER = "_base";

    /** Status of a version that is, was or may again be served (rental_models.status). */
    public static final String ACTIVE = "active";

    /** Status of a challenger that lost to the champion: stored for the record, never served. */
    public static final String REJECTED = "rejected";

    private static final String SELECT_MODEL = "SELECT m.version, m.user_id, m.parent_version, m.format, %s AS model,"
            + " m.num_trees, m.base_version, m.own_trees, m.metrics::text AS metrics, m.status, m.created_at"
            + " FROM rental_models m";

    private final DatabaseClient db;
    private final TransactionalOperator tx;

    public ModelRegistry(DatabaseClient db, TransactionalOperator tx) {
        this.db = db;
        this.tx = tx;
    }

    /** The model {@code userId} is served now, bytes included; empty if the user has none of its own. */
    public Mono<ModelRecord> current(String userId) {
        return head(userId, "m.model");
    }

    /** Like {@link #current} but without the bytes: for metadata answers. */
    public Mono<ModelRecord> currentMetadata(String userId) {
        return head(userId, "''::bytea");
    }

    private Mono<ModelRecord> head(String userId, String modelColumn) {
        return db.sql(SELECT_MODEL.formatted(modelColumn) + " JOIN rental_model_heads h ON h.version = m.version"
                        + " WHERE h.user_id = $1")
                .bind(0, userId)
                .map(ModelRegistry::toRecord)
                .one();
    }

    /** The current models of the given users that have one of their own, bytes included, in one query. */
    public Flux<ModelRecord> current(Collection<String> userIds) {
        if (userIds.isEmpty()) {
            return Flux.empty();
        }
        return db.sql(SELECT_MODEL.formatted("m.model") + " JOIN rental_model_heads h ON h.version = m.version"
                        + " WHERE h.user_id = ANY($1)")
                .bind(0, userIds.toArray(String[]::new))
                .map(ModelRegistry::toRecord)
                .all();
    }

    /** Whether {@code version} is a stored version that is, was or may again be served (not a rejected one). */
    public Mono<Boolean> isServable(long version) {
        return db.sql("SELECT 1 FROM rental_models WHERE version = $1 AND status = '" + ACTIVE + "'")
                .bind(0, version)
                .map(row -> true)
                .first()
                .defaultIfEmpty(false);
    }

    /** How many users are served a model of their own (the base model's pseudo-user not counted). */
    public Mono<Long> usersWithOwnModels() {
        return db.sql("SELECT count(*) AS users FROM rental_model_heads WHERE user_id <> $1")
                .bind(0, BASE_USER)
                .map(row -> row.get("users", Long.class))
                .one();
    }

    /** One stored version, bytes included (a layered model's base is found this way); empty if there is none. */
    public Mono<ModelRecord> version(long version) {
        return db.sql(SELECT_MODEL.formatted("m.model") + " WHERE m.version = $1")
                .bind(0, version)
                .map(ModelRegistry::toRecord)
                .one();
    }

    /** Head versions of the given users (users without a model of their own are absent from the map). */
    public Mono<Map<String, Long>> headVersions(Collection<String> userIds) {
        if (userIds.isEmpty()) {
            return Mono.just(Map.of());
        }
        return db.sql("SELECT user_id, version FROM rental_model_heads WHERE user_id = ANY($1)")
                .bind(0, userIds.toArray(String[]::new))
                .map(row -> Map.entry(row.get("user_id", String.class), row.get("version", Long.class)))
                .all()
                .collectMap(Map.Entry::getKey, Map.Entry::getValue, HashMap::new)
                .map(Function.identity());
    }

    /**
     * Stores {@code model} and moves its user's head to it, atomically, but only if the head is still at
     * {@code expectedHead} (null: the user has no head yet). A stale writer gets {@link StaleModelException} and
     * stores nothing.
     */
    public Mono<ModelRecord> store(NewModel model, Long expectedHead) {
        return insertVersion(model, ACTIVE)
                .flatMap(record -> moveHead(model.userId(), record.version(), expectedHead).thenReturn(record))
                .as(tx::transactional);
    }

    /**
     * Stores {@code model} as a rejected challenger: kept with its metrics for the record, never served (the head
     * does not move).
     */
    public Mono<ModelRecord> storeRejected(NewModel model) {
        return insertVersion(model, REJECTED);
    }

    /** The user's versions, newest first, without their bytes (rejected challengers included). */
    public Flux<ModelRecord> history(String userId, int limit) {
        return db.sql(SELECT_MODEL.formatted("''::bytea") + " WHERE m.user_id = $1 ORDER BY m.version DESC LIMIT $2")
                .bind(0, userId)
                .bind(1, limit)
                .map(ModelRegistry::toRecord)
                .all();
    }

    /**
     * The version a rollback of {@code userId} may restore: one of the user's own active versions, or the shared
     * base; empty otherwise (unknown, another user's, or rejected). Bytes included.
     */
    public Mono<ModelRecord> restorable(String userId, long version) {
        return oneVersion(db.sql(SELECT_MODEL.formatted("m.model") + " WHERE m.version = $1 AND m.user_id IN ($2, '"
                + BASE_USER + "') AND m.status = '" + ACTIVE + "'"), version, userId);
    }

    /**
     * The version a promotion of {@code userId} may serve: one of the user's own challengers that lost to the
     * champion; empty otherwise (unknown, another user's, or active). Bytes included.
     */
    public Mono<ModelRecord> promotable(String userId, long version) {
        return oneVersion(db.sql(SELECT_MODEL.formatted("m.model") + " WHERE m.version = $1 AND m.user_id = $2"
                + " AND m.status = '" + REJECTED + "'"), version, userId);
    }

    private static Mono<ModelRecord> oneVersion(DatabaseClient.GenericExecuteSpec select, long version, String userId) {
        return select.bind(0, version)
                .bind(1, userId)
                .map(ModelRegistry::toRecord)
                .one();
    }

    /** Runs {@code work} inside one transaction holding a lock on {@code userId}'s models (advisory, per user). */
    public <T> Mono<T> withUserLock(String userId, Mono<T> work) {
        return db.sql("SELECT pg_advisory_xact_lock(hashtextextended('rental_models:' || $1, 0))")
                .bind(0, userId)
                .then()
                .then(work)
                .as(tx::transactional);
    }

    private Mono<ModelRecord> insertVersion(NewModel model, String status) {
        DatabaseClient.GenericExecuteSpec insert = db.sql("INSERT INTO rental_models"
                        + " (user_id, parent_version, format, model, num_trees, base_version, own_trees, metrics, status)"
                        + " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING version, created_at")
                .bind(0, model.userId())
                .bind(2, model.format())
                .bind(3, ByteBuffer.wrap(model.bytes()))
                .bind(4, model.numTrees())
                .bind(6, model.ownTrees())
                .bind(7, Json.of(model.metrics()))
                .bind(8, status);
        insert = model.parentVersion() == null ? insert.bindNull(1, Long.class) : insert.bind(1, model.parentVersion());
        insert = model.baseVersion() == null ? insert.bindNull(5, Long.class) : insert.bind(5, model.baseVersion());
        return insert
                .map(row -> new ModelRecord(row.get("version", Long.class), model.userId(), model.parentVersion(),
                        model.format(), model.bytes(), model.numTrees(), model.baseVersion(), model.ownTrees(),
                        model.metrics(), status, row.get("created_at", OffsetDateTime.class)))
                .one();
    }

    private Mono<Void> moveHead(String userId, long version, Long expectedHead) {
        DatabaseClient.GenericExecuteSpec cas = expectedHead == null
                ? db.sql("INSERT INTO rental_model_heads (user_id, version) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING")
                        .bind(0, userId).bind(1, version)
                : db.sql("UPDATE rental_model_heads SET version = $2, updated_at = now() WHERE user_id = $1 AND version = $3")
                        .bind(0, userId).bind(1, version).bind(2, expectedHead);
        return cas.fetch().rowsUpdated()
                .flatMap(n -> n == 1 ? Mono.<Void>empty() : Mono.error(new StaleModelException(userId, expectedHead)));
    }

    private static ModelRecord toRecord(Readable row) {
        ByteBuffer buffer = row.get("model", ByteBuffer.class);
        byte[] bytes = new byte[buffer == null ? 0 : buffer.remaining()];
        if (buffer != null) {
            buffer.get(bytes);
        }
        return new ModelRecord(
                row.get("version", Long.class),
                row.get("user_id", String.class),
                row.get("parent_version", Long.class),
                row.get("format", String.class),
                bytes,
                row.get("num_trees", Integer.class),
                row.get("base_version", Long.class),
                row.get("own_trees", Integer.class),
                row.get("metrics", String.class),
                row.get("status", String.class),
                row.get("created_at", OffsetDateTime.class));
    }
}

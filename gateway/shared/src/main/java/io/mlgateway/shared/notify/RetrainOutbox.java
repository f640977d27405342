package io.mlgateway.shared.notify;

import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The {@code retrain_outbox} table: announcements of model changes queued in the same transaction as the change
 * (by the retrainer's commits and the gateway's rollbacks) and sent on {@code model-retrained} by the retrainer's
 * relay, which marks them published. All SQL on the table is here.
 */
public class RetrainOutbox {

    private final DatabaseClient db;

    public RetrainOutbox(DatabaseClient db) {
        this.db = db;
    }

    /** Queues an announcement; run it inside the transaction of the change it announces. */
    public Mono<Void> enqueue(String userId, String status, Long version, String reason) {
        DatabaseClient.GenericExecuteSpec insert = db.sql(
                        "INSERT INTO retrain_outbox (user_id, status, version, reason) VALUES ($1, $2, $3, $4)")
                .bind(0, userId).bind(1, status);
        insert = version == null ? insert.bindNull(2, Long.class) : insert.bind(2, version);
        insert = reason == null ? insert.bindNull(3, String.class) : insert.bind(3, reason);
        return insert.then();
    }

    /** Announcements not yet sent, oldest first. */
    public Flux<OutboxEntry> unpublished(int limit) {
        return db.sql("SELECT id, user_id, status, version, reason FROM retrain_outbox"
                        + " WHERE published_at IS NULL ORDER BY id LIMIT $1")
                .bind(0, limit)
                .map(row -> new OutboxEntry(row.get("id", Long.class), row.get("user_id", String.class),
                        row.get("status", String.class), row.get("version", Long.class), row.get("reason", String.class)))
                .all();
    }

    public Mono<Void> markPublished(long id) {
        return db.sql("UPDATE retrain_outbox SET published_at = now() WHERE id = $1").bind(0, id).then();
    }

    /** Announcements waiting (for the backlog metric). */
    public Mono<Long> backlog() {
        return db.sql("SELECT count(*) AS n FROM retrain_outbox WHERE published_at IS NULL")
                .map(row -> row.get("n", Long.class)).one();
    }
}

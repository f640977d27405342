package io.mlgateway.shared.actuals;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;

/**
 * Ground truth in {@code actual_rentals}: one actual per logged prediction, its user taken from the prediction.
 * The gateway's writes live here; the retrainer's reads join this table with {@code rental_predictions}.
 */
public class ActualsTable {

    /**
     * The PostgreSQL NOTIFY channel a new actual is announced on, with its user id as the payload (the trigger of
     * migration V2; the retrainer LISTENs). A migration cannot read this constant: ActualsTableChannelTest checks the
     * migration names the same channel.
     */
    public static final String NOTIFY_CHANNEL = "actual_rentals";

    /** Outcome of storing one actual. */
    public enum Outcome { STORED, UNKNOWN_REQUEST_ID, DUPLICATE }

    /** @param timestamp when the rentals happened (defaults to now) */
    public record Actual(UUID requestId, double actualValue, OffsetDateTime timestamp) {
    }

    private final DatabaseClient db;

    public ActualsTable(DatabaseClient db) {
        this.db = db;
    }

    /**
     * Stores each actual whose prediction is logged and has no actual yet, in one statement. Request ids must be
     * distinct within the call. Outcomes come back by request id.
     */
    public Mono<Map<UUID, Outcome>> store(List<Actual> actuals) {
        if (actuals.isEmpty()) {
            return Mono.just(Map.of());
        }
        List<String> ids = new ArrayList<>(actuals.size());
        List<Double> values = new ArrayList<>(actuals.size());
        List<String> times = new ArrayList<>(actuals.size());
        for (Actual a : actuals) {
            ids.add(a.requestId().toString());
            values.add(a.actualValue());
            times.add(a.timestamp().toString());
        }
        return db.sql("""
                        WITH input AS (
                            SELECT * FROM unnest($1::text[]::uuid[], $2::float8[], $3::text[]::timestamptz[])
                                AS t(request_id, actual_value, ts)),
                        inserted AS (
                            INSERT INTO actual_rentals (request_id, user_id, actual_value, "timestamp")
                            SELECT i.request_id, p.user_id, i.actual_value, i.ts
                            FROM input i JOIN rental_predictions p ON p.request_id = i.request_id
                            ON CONFLICT (request_id) DO NOTHING
                            RETURNING request_id)
                        SELECT i.request_id::text AS request_id,
                               (s.request_id IS NOT NULL) AS stored,
                               EXISTS (SELECT 1 FROM rental_predictions p WHERE p.request_id = i.request_id) AS known
                        FROM input i LEFT JOIN inserted s ON s.request_id = i.request_id""")
                .bind(0, ids.toArray(String[]::new))
                .bind(1, values.toArray(Double[]::new))
                .bind(2, times.toArray(String[]::new))
                .map(row -> Map.entry(UUID.fromString(row.get("request_id", String.class)),
                        Boolean.TRUE.equals(row.get("stored", Boolean.class)) ? Outcome.STORED
                                : Boolean.TRUE.equals(row.get("known", Boolean.class)) ? Outcome.DUPLICATE
                                : Outcome.UNKNOWN_REQUEST_ID))
                .all()
                .collectMap(Map.Entry::getKey, Map.Entry::getValue, HashMap::new)
                .map(m -> m);
    }
}

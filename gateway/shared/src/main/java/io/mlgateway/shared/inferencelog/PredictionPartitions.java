package io.mlgateway.shared.inferencelog;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The day partitions of {@code rental_predictions} (migration V5: partitioned by request id, whose UUIDv7 prefix is
 * the time it was made; one partition per UTC day, plus a default one that is never dropped). The SQL functions
 * that create and drop them are defined by the migration, which also documents them; this class only calls them.
 */
public class PredictionPartitions {

    /** A day's partition is {@code rental_predictions_YYYYMMDD}. */
    static final String PREFIX = "rental_predictions_";
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyyMMdd");

    private final DatabaseClient db;

    public PredictionPartitions(DatabaseClient db) {
        this.db = db;
    }

    /** Today in UTC: the partitions' calendar. */
    public static LocalDate today() {
        return LocalDate.now(ZoneOffset.UTC);
    }

    /** Creates the partitions of {@code first}..{@code last} that are missing; emits how many it created. */
    public Mono<Integer> ensure(LocalDate first, LocalDate last) {
        return db.sql("SELECT rental_predictions_ensure_partitions($1, $2) AS created")
                .bind(0, first).bind(1, last)
                .map(row -> row.get("created", Integer.class))
                .one();
    }

    /** The days that have a partition, oldest first. */
    public Flux<LocalDate> days() {
        return db.sql("SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                        + " WHERE i.inhparent = 'rental_predictions'::regclass AND c.relname ~ '^"
                        + PREFIX + "[0-9]{8}$' ORDER BY c.relname")
                .map(row -> LocalDate.parse(row.get("name", String.class).substring(PREFIX.length()), DAY))
                .all();
    }

    /**
     * Drops {@code day}'s partition and the actuals of its predictions, unless one of its predictions has an actual
     * no model has used yet, or one among the latest {@code keepLatest} actuals of its user; emits whether it
     * dropped.
     */
    public Mono<Boolean> dropDay(LocalDate day, int keepLatest) {
        return db.sql("SELECT rental_predictions_drop_day($1, $2) AS dropped")
                .bind(0, day).bind(1, keepLatest)
                .map(row -> row.get("dropped", Boolean.class))
                .one();
    }
}

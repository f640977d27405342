package io.mlgateway.shared.inferencelog;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.shared.actuals.ActualsTable;
import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.LocalServices.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * The day partitions of the inference log (migration V5) on the real PostgreSQL: rows land in the partition of the
 * day their request id was made, partitions are created ahead without conflict, a day is dropped only when nothing
 * in it is still needed for training, and a log that existed before V5 keeps every row and actual.
 */
class PredictionPartitionsTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final LocalDate TODAY = PredictionPartitions.today();

    private final TestDatabase db = LocalServices.freshDatabase();
    private final DatabaseClient client = DatabaseClient.create(db.connectionFactory());
    private final PredictionPartitions partitions = new PredictionPartitions(client);
    private final PredictionTable predictions = new PredictionTable(client);
    private final ActualsTable actuals = new ActualsTable(client);

    /** A UUIDv7 made at {@code at}, as the gateway's RequestIds makes them. */
    static UUID idAt(Instant at) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return new UUID((at.toEpochMilli() << 16) | 0x7000L | random.nextLong(0x1000),
                (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L);
    }

    static Instant noonOf(LocalDate day) {
        return day.atTime(12, 0).toInstant(ZoneOffset.UTC);
    }

    private static PredictionRecord prediction(UUID id, String user, Instant at) {
        return new PredictionRecord(id, user, 1, new float[RentalFeatures.COUNT], 10.0, at.truncatedTo(ChronoUnit.MICROS));
    }

    private PredictionRecord logged(String user, LocalDate day) {
        PredictionRecord record = prediction(idAt(noonOf(day)), user, noonOf(day));
        StepVerifier.create(predictions.insert(List.of(record))).expectNext(1L).verifyComplete();
        return record;
    }

    private void actualFor(PredictionRecord record) {
        StepVerifier.create(actuals.store(List.of(new ActualsTable.Actual(record.requestId(), 5.0,
                OffsetDateTime.now(ZoneOffset.UTC))))).expectNextCount(1).verifyComplete();
    }

    private String partitionOf(UUID requestId) {
        return query("SELECT tableoid::regclass::text FROM rental_predictions WHERE request_id = '" + requestId + "'");
    }

    private String query(String sql) {
        try (Connection c = db.jdbc(); ResultSet rs = c.createStatement().executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private void execute(String sql) {
        try (Connection c = db.jdbc()) {
            c.createStatement().execute(sql);
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private long modelVersion() {
        return Long.parseLong(query("INSERT INTO rental_models (user_id, format, model, num_trees, status, own_trees)"
                + " VALUES ('u', 'trees-v1', '\\x00', 1, 'active', 1) RETURNING version"));
    }

    @Test
    void theMigrationPreparesTheComingWeekAndRowsLandInTheirDay() {
        StepVerifier.create(partitions.days().collectList())
                .assertNext(days -> assertThat(days).containsAll(TODAY.datesUntil(TODAY.plusDays(8)).toList()))
                .verifyComplete();
        PredictionRecord today = logged("alice", TODAY);
        PredictionRecord tomorrow = logged("alice", TODAY.plusDays(1));
        assertThat(partitionOf(today.requestId())).isEqualTo("rental_predictions_" + TODAY.toString().replace("-", ""));
        assertThat(partitionOf(tomorrow.requestId())).endsWith(TODAY.plusDays(1).toString().replace("-", ""));

        // An id of no day with a partition (a random UUID, or a day nobody created) is still stored, in the default.
        PredictionRecord random = prediction(UUID.randomUUID(), "alice", Instant.now());
        PredictionRecord farFuture = prediction(idAt(noonOf(TODAY.plusYears(3))), "alice", Instant.now());
        StepVerifier.create(predictions.insert(List.of(random, farFuture))).expectNext(2L).verifyComplete();
        assertThat(partitionOf(farFuture.requestId())).isEqualTo("rental_predictions_default");

        // An actual finds its prediction through the one partition of its id's day.
        actualFor(today);
        assertThat(db.count("SELECT count(*) FROM actual_rentals")).isEqualTo(1);
    }

    @Test
    void creatingPartitionsIsIdempotentAndSafeFromSeveralInstancesAtOnce() {
        LocalDate from = TODAY.plusDays(20);
        List<Integer> created = Flux.range(0, 4)
                .flatMap(i -> partitions.ensure(from, from.plusDays(9)))
                .collectList().block(WAIT);
        assertThat(created).as("four instances at once create the ten days once").containsExactlyInAnyOrder(10, 0, 0, 0);
        StepVerifier.create(partitions.ensure(from, from.plusDays(9))).expectNext(0).verifyComplete();
    }

    @Test
    void aDayWhoseRowsSitInTheDefaultPartitionStaysThere() {
        LocalDate day = TODAY.plusDays(40);
        PredictionRecord early = logged("alice", day);
        assertThat(partitionOf(early.requestId())).isEqualTo("rental_predictions_default");
        StepVerifier.create(partitions.ensure(day, day)).expectNext(0).verifyComplete();
        assertThat(partitionOf(early.requestId())).isEqualTo("rental_predictions_default");
    }

    @Test
    void aDayIsDroppedOnlyWhenTrainingNeedsNothingInIt() {
        LocalDate old = TODAY.minusDays(60);
        StepVerifier.create(partitions.ensure(old.minusDays(2), old)).expectNext(3).verifyComplete();
        long version = modelVersion();

        // Day old-2: only predictions, no actuals: dropped.
        logged("carol", old.minusDays(2));
        // Day old-1: an actual no model has used yet: kept.
        PredictionRecord pending = logged("alice", old.minusDays(1));
        actualFor(pending);
        // Day old: bob's actuals, all used; with a window of 2, the one in this day is among his latest two until
        // two newer ones come.
        PredictionRecord used = logged("bob", old);
        actualFor(used);
        execute("UPDATE actual_rentals SET used_in_version = " + version);

        StepVerifier.create(partitions.dropDay(old.minusDays(2), 2)).expectNext(true).verifyComplete();
        StepVerifier.create(partitions.dropDay(old.minusDays(1), 2)).expectNext(false).verifyComplete();
        StepVerifier.create(partitions.dropDay(old, 2)).expectNext(false).verifyComplete();

        for (int i = 0; i < 2; i++) {
            actualFor(logged("bob", TODAY));
        }
        execute("UPDATE actual_rentals SET used_in_version = " + version + " WHERE user_id = 'bob'");
        StepVerifier.create(partitions.dropDay(old, 2)).expectNext(true).verifyComplete();

        assertThat(db.count("SELECT count(*) FROM actual_rentals WHERE request_id = '" + used.requestId() + "'"))
                .as("the dropped day's actuals go with it").isZero();
        assertThat(db.count("SELECT count(*) FROM actual_rentals")).isEqualTo(3);
        StepVerifier.create(partitions.days().collectList())
                .assertNext(days -> assertThat(days).contains(old.minusDays(1)).doesNotContain(old, old.minusDays(2)))
                .verifyComplete();
        StepVerifier.create(partitions.dropDay(old.minusDays(5), 2)).as("no partition, nothing to drop")
                .expectNext(false).verifyComplete();
    }

    @Test
    void aBusyLogIsNotWaitedForTheDayIsDroppedOnALaterPass() throws SQLException {
        LocalDate old = TODAY.minusDays(90);
        StepVerifier.create(partitions.ensure(old, old)).expectNext(1).verifyComplete();
        logged("carol", old);
        try (Connection reader = db.jdbc()) {
            // A long transaction reading the log (a report, a backup) holds a lock that detaching must wait for.
            reader.setAutoCommit(false);
            reader.createStatement().execute("LOCK TABLE rental_predictions IN ACCESS SHARE MODE");
            long start = System.nanoTime();
            StepVerifier.create(partitions.dropDay(old, 2)).expectNext(false).verifyComplete();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
            reader.rollback();
        }
        StepVerifier.create(partitions.dropDay(old, 2)).expectNext(true).verifyComplete();
    }

    @Test
    void aLogFromBeforeTheMigrationKeepsEveryRowAndActual() throws SQLException {
        // A schema at V4, with a log of three days, one of them with ids of the old random kind.
        String schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        try (Connection c = db.jdbc()) {
            c.createStatement().execute("CREATE SCHEMA " + schema);
        }
        String url = db.jdbcUrl().replaceFirst("currentSchema=[^&]+", "currentSchema=" + schema);
        Flyway.configure().dataSource(url, db.user(), db.password()).locations("classpath:db/migration").target("4")
                .load().migrate();
        List<UUID> ids = new ArrayList<>();
        try (Connection c = java.sql.DriverManager.getConnection(url, db.user(), db.password())) {
            for (int day = 0; day < 3; day++) {
                Instant at = noonOf(TODAY.minusDays(10 + day));
                for (int i = 0; i < 5; i++) {
                    UUID id = day == 2 ? UUID.randomUUID() : idAt(at);
                    ids.add(id);
                    c.createStatement().execute("INSERT INTO rental_predictions VALUES ('" + id + "', 'u" + i
                            + "', 1, '{0,0,0,0,0,0,0,0,0,0,0,0}', 1.5, '" + at + "')");
                    c.createStatement().execute("INSERT INTO actual_rentals (request_id, user_id, actual_value,"
                            + " \"timestamp\") VALUES ('" + id + "', 'u" + i + "', 2, now())");
                }
            }
        }
        Flyway.configure().dataSource(url, db.user(), db.password()).locations("classpath:db/migration").load().migrate();

        try (Connection c = java.sql.DriverManager.getConnection(url, db.user(), db.password())) {
            ResultSet rows = c.createStatement().executeQuery("SELECT count(*), count(DISTINCT p.tableoid)"
                    + " FROM rental_predictions p JOIN actual_rentals a USING (request_id)");
            rows.next();
            assertThat(rows.getLong(1)).as("every prediction with its actual").isEqualTo(15);
            assertThat(rows.getLong(2)).as("two days' partitions and the default").isGreaterThanOrEqualTo(3);
            ResultSet partitioned = c.createStatement().executeQuery("SELECT relkind FROM pg_class WHERE oid ="
                    + " 'rental_predictions'::regclass");
            partitioned.next();
            assertThat(partitioned.getString(1)).isEqualTo("p");
            // The foreign key is back: an actual for an unknown prediction is refused.
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.createStatement().execute(
                    "INSERT INTO actual_rentals (request_id, user_id, actual_value, \"timestamp\") VALUES ('"
                            + UUID.randomUUID() + "', 'x', 1, now())"))
                    .hasMessageContaining("foreign key");
        }
    }
}

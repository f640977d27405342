package io.mlgateway.shared.inferencelog;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.LocalServices.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.test.StepVerifier;

class PredictionTableTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private static TestDatabase db;
    private static PredictionTable table;

    @BeforeAll
    static void database() {
        db = LocalServices.freshDatabase();
        table = new PredictionTable(DatabaseClient.create(db.connectionFactory()));
    }

    private static PredictionRecord record(Random random, String userId) {
        float[] features = new float[RentalFeatures.COUNT];
        for (int i = 0; i < features.length; i++) {
            features[i] = random.nextFloat() * 100 - 50;
        }
        Instant createdAt = Instant.now().truncatedTo(ChronoUnit.MICROS).minusNanos(random.nextInt(1_000_000) * 1000L);
        return new PredictionRecord(UUID.randomUUID(), userId, random.nextInt(1_000_000), features,
                random.nextDouble() * 1000, createdAt);
    }

    private static void assertSameRecord(PredictionRecord actual, PredictionRecord expected) {
        assertThat(actual.requestId()).isEqualTo(expected.requestId());
        assertThat(actual.userId()).isEqualTo(expected.userId());
        assertThat(actual.modelVersion()).isEqualTo(expected.modelVersion());
        // Bit-exact, not "close": the logged vector is what the retrainer learns from.
        assertThat(actual.features()).containsExactly(expected.features());
        assertThat(Double.doubleToRawLongBits(actual.prediction()))
                .isEqualTo(Double.doubleToRawLongBits(expected.prediction()));
        assertThat(actual.createdAt()).isEqualTo(expected.createdAt());
    }

    @Test
    void storesEveryColumnExactly() {
        Random random = new Random(1);
        PredictionRecord plain = record(random, "alice");
        float[] awkward = {0.1f, 1f / 3, Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_NORMAL, 16_777_217f,
                -0.0f, 123456.79f, 1e-30f, 2024f, 0f, 0.99999994f};
        PredictionRecord edges = new PredictionRecord(UUID.randomUUID(), "bob ünïcødé ✓", Long.MAX_VALUE, awkward,
                Math.PI / 7, Instant.parse("1999-12-31T23:59:59.123456Z"));

        StepVerifier.create(table.insert(List.of(plain, edges))).expectNext(2L).verifyComplete();

        StepVerifier.create(table.find(plain.requestId()))
                .assertNext(stored -> assertSameRecord(stored, plain)).verifyComplete();
        StepVerifier.create(table.find(edges.requestId()))
                .assertNext(stored -> {
                    assertSameRecord(stored, edges);
                    assertThat(Float.floatToRawIntBits(stored.features()[6])).isEqualTo(Float.floatToRawIntBits(-0.0f));
                }).verifyComplete();
    }

    @Test
    void reinsertingABatchIsHarmlessAndCountsOnlyNewRows() {
        Random random = new Random(2);
        List<PredictionRecord> batch = List.of(record(random, "u1"), record(random, "u2"), record(random, "u3"));
        StepVerifier.create(table.insert(batch)).expectNext(3L).verifyComplete();

        List<PredictionRecord> retried = new ArrayList<>(batch);
        retried.add(record(random, "u4"));
        StepVerifier.create(table.insert(retried)).expectNext(1L).verifyComplete();

        String ids = retried.stream().map(r -> "'" + r.requestId() + "'").reduce((a, b) -> a + "," + b).orElseThrow();
        assertThat(db.count("SELECT count(*) FROM rental_predictions WHERE request_id IN (" + ids + ")")).isEqualTo(4);
    }

    @Test
    void writesAThousandRowsInOneStatementWithEachRowItsOwnVector() {
        Random random = new Random(3);
        List<PredictionRecord> batch = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            PredictionRecord r = record(random, "user-" + (i % 37));
            r.features()[0] = i; // which row a stored vector came from, to catch an off-by-one slice
            batch.add(r);
        }
        long before = db.count("SELECT count(*) FROM rental_predictions");
        long started = System.nanoTime();
        StepVerifier.create(table.insert(batch)).expectNext(1000L).verifyComplete();
        System.out.printf("PredictionTable: 1000-row insert took %d ms%n", (System.nanoTime() - started) / 1_000_000);

        assertThat(db.count("SELECT count(*) FROM rental_predictions") - before).isEqualTo(1000);
        String ids = batch.stream().map(r -> "'" + r.requestId() + "'").reduce((a, b) -> a + "," + b).orElseThrow();
        assertThat(db.count("SELECT count(*) FROM rental_predictions WHERE request_id IN (" + ids + ")"
                + " AND array_lower(features, 1) = 1 AND array_length(features, 1) = " + RentalFeatures.COUNT))
                .isEqualTo(1000);
        for (int i : new int[] {0, 1, 499, 998, 999}) {
            PredictionRecord expected = batch.get(i);
            StepVerifier.create(table.find(expected.requestId()))
                    .assertNext(stored -> assertSameRecord(stored, expected)).expectComplete().verify(WAIT);
        }
    }

    @Test
    void existsOnlyForStoredRequests() {
        PredictionRecord r = record(new Random(4), "carol");
        StepVerifier.create(table.exists(r.requestId())).expectNext(false).verifyComplete();
        StepVerifier.create(table.insert(List.of(r))).expectNext(1L).verifyComplete();
        StepVerifier.create(table.exists(r.requestId())).expectNext(true).verifyComplete();
        StepVerifier.create(table.find(UUID.randomUUID())).verifyComplete();
    }

    @Test
    void anEmptyBatchInsertsNothing() {
        StepVerifier.create(table.insert(List.of())).expectNext(0L).verifyComplete();
    }
}

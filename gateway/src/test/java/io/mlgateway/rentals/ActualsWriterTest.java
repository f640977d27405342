package io.mlgateway.rentals;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.mlgateway.shared.actuals.ActualsTable;
import io.mlgateway.shared.actuals.ActualsTable.Outcome;
import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.inferencelog.PredictionRecord;
import io.mlgateway.shared.inferencelog.PredictionTable;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.TcpProxy;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactoryOptions;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * Group commit of actuals against the real PostgreSQL: concurrent calls share writes, every call gets exactly
 * the outcomes a write of its own would have given, and a failed write fails only its calls.
 */
class ActualsWriterTest {

    private final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private final TcpProxy proxy = TcpProxy.start(LocalServices.pgPort());
    private final DatabaseClient client = DatabaseClient.create(ConnectionFactories.get(ConnectionFactoryOptions
            .parse(db.r2dbcUrl().replace(":" + LocalServices.pgPort() + "/", ":" + proxy.port() + "/")).mutate()
            .option(ConnectionFactoryOptions.USER, db.user())
            .option(ConnectionFactoryOptions.PASSWORD, db.password())
            .option(ConnectionFactoryOptions.CONNECT_TIMEOUT, Duration.ofSeconds(2))
            .build()));
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final ActualsWriter writer = new ActualsWriter(new ActualsTable(client), 500, meters);

    @AfterEach
    void close() {
        proxy.close();
    }

    private List<UUID> predictions(int n) {
        List<PredictionRecord> records = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            records.add(new PredictionRecord(UUID.randomUUID(), "writer-user", 1, new float[RentalFeatures.COUNT], 1.0,
                    Instant.now()));
        }
        new PredictionTable(client).insert(records).block(Duration.ofSeconds(30));
        return records.stream().map(PredictionRecord::requestId).toList();
    }

    private static List<ActualsTable.Actual> actuals(UUID... ids) {
        List<ActualsTable.Actual> list = new ArrayList<>();
        for (UUID id : ids) {
            list.add(new ActualsTable.Actual(id, 42, OffsetDateTime.now()));
        }
        return list;
    }

    @Test
    void concurrentCallsShareWritesAndEachGetsItsOwnOutcomes() {
        List<UUID> ids = predictions(300);
        List<Map<UUID, Outcome>> answers = Flux.fromIterable(ids)
                .flatMap(id -> writer.store(actuals(id)), 300)
                .collectList().block(Duration.ofSeconds(60));

        assertThat(answers).hasSize(300).allSatisfy(answer -> assertThat(answer).hasSize(1).containsValue(Outcome.STORED));
        assertThat(answers.stream().flatMap(a -> a.keySet().stream())).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(db.count("SELECT count(*) FROM actual_rentals")).isEqualTo(300);
        DistributionSummary rows = meters.get("gateway.actuals.write.rows").summary();
        assertThat(rows.totalAmount()).isEqualTo(300);
        assertThat(rows.count()).as("writes for 300 concurrent calls").isLessThan(300);
        assertThat(rows.max()).isGreaterThan(1);
    }

    @Test
    void callsWithTheSameRequestIdAreNotWrittenTogether() {
        List<UUID> ids = predictions(3);
        UUID shared = ids.get(0);
        // The first call is written at once; the next two wait for it, and must not share one INSERT.
        List<Map<UUID, Outcome>> answers = Flux.merge(
                        writer.store(actuals(ids.get(2))),
                        writer.store(actuals(shared)),
                        writer.store(actuals(shared, ids.get(1))))
                .collectList().block(Duration.ofSeconds(30));

        List<Outcome> forShared = answers.stream().filter(a -> a.containsKey(shared)).map(a -> a.get(shared)).toList();
        assertThat(forShared).containsExactlyInAnyOrder(Outcome.STORED, Outcome.DUPLICATE);
        assertThat(answers).anySatisfy(a -> assertThat(a).containsEntry(ids.get(1), Outcome.STORED));
        assertThat(answers).anySatisfy(a -> assertThat(a).containsEntry(ids.get(2), Outcome.STORED));
        assertThat(db.count("SELECT count(*) FROM actual_rentals")).isEqualTo(3);
    }

    @Test
    void unknownRequestIdsAreReportedNotStored() {
        UUID unknown = UUID.randomUUID();
        StepVerifier.create(writer.store(actuals(unknown)))
                .expectNext(Map.of(unknown, Outcome.UNKNOWN_REQUEST_ID))
                .verifyComplete();
        assertThat(db.count("SELECT count(*) FROM actual_rentals")).isZero();
    }

    @Test
    void aFailedWriteFailsItsCallsAndTheNextWriteStillHappens() {
        List<UUID> ids = predictions(2);
        proxy.cut();
        StepVerifier.create(writer.store(actuals(ids.get(0))))
                .expectError()
                .verify(Duration.ofSeconds(30));
        proxy.restore();
        StepVerifier.create(writer.store(actuals(ids.get(1))))
                .expectNext(Map.of(ids.get(1), Outcome.STORED))
                .verifyComplete();
        assertThat(db.count("SELECT count(*) FROM actual_rentals")).isEqualTo(1);
    }

    @Test
    void anEmptyCallIsAnsweredWithoutAWrite() {
        StepVerifier.create(writer.store(List.of())).expectNext(Map.of()).verifyComplete();
        assertThat(meters.get("gateway.actuals.write.rows").summary().count()).isZero();
    }

}

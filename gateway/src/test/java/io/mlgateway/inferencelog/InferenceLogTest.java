package io.mlgateway.inferencelog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.mlgateway.shared.inferencelog.PredictionRecord;
import io.mlgateway.shared.inferencelog.PredictionTable;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import reactor.test.StepVerifier;

/** The inference log against the real PostgreSQL, with a {@link io.mlgateway.shared.testing.TcpProxy} to cut it off. */
class InferenceLogTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private final ProxiedDatabase database = new ProxiedDatabase();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private InferenceLog log;

    private InferenceLog start(InferenceLogProperties properties) {
        log = new InferenceLog(database.client, properties, meters);
        return log;
    }

    /** Retries capped at 500 ms; capacity 0 or a null timeout: that value at its default. */
    private static InferenceLogProperties properties(int capacity, Duration writeTimeout, Duration shutdownTimeout) {
        InferenceLogProperties d = InferenceLogProperties.defaults();
        return new InferenceLogProperties(capacity > 0 ? capacity : d.capacity(), d.batchSize(), d.flushInterval(),
                d.retryMinBackoff(), Duration.ofMillis(500), writeTimeout != null ? writeTimeout : d.writeTimeout(),
                shutdownTimeout != null ? shutdownTimeout : d.shutdownTimeout());
    }

    @AfterEach
    void stop() {
        if (log != null) {
            database.proxy.restore();
            log.stop();
        }
        database.close();
    }

    private double counter(String name) {
        return meters.get(name).counters().stream().mapToDouble(c -> c.count()).sum();
    }

    private static List<UUID> ids(List<PredictionRecord> records) {
        return records.stream().map(PredictionRecord::requestId).toList();
    }

    private static void eventually(BooleanSupplier condition, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition not met within " + within).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void writesEveryAcceptedPredictionWithItsValues() {
        InferenceLog log = start(InferenceLogProperties.defaults());
        List<PredictionRecord> records = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            PredictionRecord r = ProxiedDatabase.record();
            records.add(r);
            assertThat(log.offer(r)).isTrue();
        }

        log.awaitPersisted(ids(records), WAIT).block(WAIT);

        PredictionTable table = new PredictionTable(database.client);
        for (PredictionRecord expected : records) {
            StepVerifier.create(table.find(expected.requestId())).assertNext(stored -> {
                assertThat(stored.userId()).isEqualTo(expected.userId());
                assertThat(stored.modelVersion()).isEqualTo(expected.modelVersion());
                assertThat(stored.features()).containsExactly(expected.features());
                assertThat(stored.prediction()).isEqualTo(expected.prediction());
                assertThat(stored.createdAt()).isEqualTo(expected.createdAt());
            }).expectComplete().verify(WAIT);
        }
        assertThat(database.rows()).isEqualTo(20);
        assertThat(log.depth()).isZero();
        assertThat(counter("gateway.inferencelog.flushed")).isEqualTo(20);
        assertThat(meters.get("gateway.inferencelog.queue.depth").gauge().value()).isZero();
    }

    @Test
    void writesABurstInFewLargeBatches() {
        InferenceLog log = start(InferenceLogProperties.defaults());
        List<PredictionRecord> records = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            PredictionRecord r = ProxiedDatabase.record();
            records.add(r);
            assertThat(log.offer(r)).isTrue();
        }

        log.awaitPersisted(ids(records), WAIT).block(WAIT);

        assertThat(database.rows()).isEqualTo(5000);
        long inserts = meters.get("gateway.inferencelog.flush.duration").tag("outcome", "success").timer().count();
        double largest = meters.get("gateway.inferencelog.flush.batch.size").summary().max();
        System.out.printf("InferenceLog burst: 5000 predictions in %d INSERTs, largest batch %.0f%n", inserts, largest);
        assertThat(inserts).isBetween(5L, 100L);
        assertThat(largest).isEqualTo(1000);
        assertThat(counter("gateway.inferencelog.flushed")).isEqualTo(5000);
    }

    @Test
    void refusesPastCapacityAllOrNothingAndCountsIt() throws InterruptedException {
        database.proxy.cut(); // nothing drains while capacity is probed
        InferenceLog log = start(properties(100, null, null));
        List<PredictionRecord> accepted = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            accepted.add(ProxiedDatabase.record());
        }
        assertThat(log.offerAll(accepted)).isTrue();

        List<PredictionRecord> tooMany = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            tooMany.add(ProxiedDatabase.record());
        }
        assertThat(log.offerAll(tooMany)).isFalse();
        assertThat(log.depth()).isEqualTo(60);
        assertThat(tooMany).noneMatch(r -> log.isPending(r.requestId()));

        for (int i = 0; i < 40; i++) {
            PredictionRecord r = ProxiedDatabase.record();
            assertThat(log.offer(r)).isTrue();
            accepted.add(r);
        }
        PredictionRecord oneTooMany = ProxiedDatabase.record();
        assertThat(log.offer(oneTooMany)).isFalse();
        assertThat(log.depth()).isEqualTo(100);
        assertThat(counter("gateway.inferencelog.rejected")).isEqualTo(51);
        assertThat(meters.get("gateway.inferencelog.queue.capacity").gauge().value()).isEqualTo(100);
        assertThat(meters.get("gateway.inferencelog.queue.depth").gauge().value()).isEqualTo(100);

        database.proxy.restore();
        log.awaitPersisted(ids(accepted), WAIT).block(WAIT);
        assertThat(database.rows()).isEqualTo(100);
        assertThat(database.stored(oneTooMany.requestId())).isFalse();
        assertThat(tooMany).noneMatch(r -> database.stored(r.requestId()));
        // room again once written
        assertThat(log.offer(ProxiedDatabase.record())).isTrue();
    }

    @Test
    void awaitPersistedCompletesOnceTheWriteLands() {
        database.proxy.cut();
        InferenceLog log = start(properties(0, null, null));
        PredictionRecord r = ProxiedDatabase.record();
        assertThat(log.offer(r)).isTrue();
        assertThat(log.isPending(r.requestId())).isTrue();

        StepVerifier.create(log.awaitPersisted(List.of(r.requestId()), WAIT))
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(800))
                .then(database.proxy::restore)
                .expectComplete()
                .verify(Duration.ofSeconds(15));

        assertThat(database.stored(r.requestId())).isTrue();
        assertThat(log.isPending(r.requestId())).isFalse();
        assertThat(counter("gateway.inferencelog.failed")).isPositive();
    }

    @Test
    void awaitPersistedTimesOutWhileTheDatabaseIsCut() {
        database.proxy.cut();
        InferenceLog log = start(properties(0, null, null));
        PredictionRecord r = ProxiedDatabase.record();
        assertThat(log.offer(r)).isTrue();

        long started = System.nanoTime();
        StepVerifier.create(log.awaitPersisted(List.of(r.requestId(), UUID.randomUUID()), Duration.ofSeconds(1)))
                .expectError(TimeoutException.class)
                .verify(Duration.ofSeconds(10));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(900), Duration.ofSeconds(5));
        assertThat(log.isPending(r.requestId())).isTrue();
    }

    @Test
    void awaitPersistedOfPredictionsNotHeldCompletesAtOnce() {
        InferenceLog log = start(InferenceLogProperties.defaults());
        StepVerifier.create(log.awaitPersisted(List.of(UUID.randomUUID()), Duration.ofMillis(100)))
                .verifyComplete();
        StepVerifier.create(log.awaitPersisted(List.of(), Duration.ofMillis(100))).verifyComplete();
    }

    @Test
    void retriesAWriteTheDatabaseNeverAnswered() throws InterruptedException {
        InferenceLog log = start(properties(0, Duration.ofMillis(500), null));
        PredictionRecord warm = ProxiedDatabase.record();
        log.offer(warm);
        log.awaitPersisted(List.of(warm.requestId()), WAIT).block(WAIT); // a pooled connection now exists

        database.proxy.pause(); // connections stay open, nothing answers
        List<PredictionRecord> records = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            records.add(ProxiedDatabase.record());
        }
        assertThat(log.offerAll(records)).isTrue();
        eventually(() -> meters.get("gateway.inferencelog.failed").tag("reason", "timeout").counter().count() >= 1,
                Duration.ofSeconds(10));
        assertThat(log.depth()).isEqualTo(10);

        database.proxy.restore();
        log.awaitPersisted(ids(records), WAIT).block(WAIT);
        assertThat(database.rows()).isEqualTo(11);
    }

    @Test
    void reportsTheAgeOfTheOldestUnwrittenPrediction() {
        database.proxy.cut();
        InferenceLog log = start(properties(0, null, null));
        PredictionRecord old = ProxiedDatabase.record();
        old = new PredictionRecord(old.requestId(), old.userId(), old.modelVersion(), old.features(),
                old.prediction(), Instant.now().minusSeconds(30));
        log.offer(old);
        log.offer(ProxiedDatabase.record());

        assertThat(meters.get("gateway.inferencelog.oldest.age").gauge().value()).isBetween(30.0, 40.0);

        database.proxy.restore();
        log.awaitPersisted(List.of(old.requestId()), WAIT).block(WAIT);
        assertThat(meters.get("gateway.inferencelog.oldest.age").gauge().value()).isLessThan(30.0);
    }

    @Test
    void stopWritesEverythingHeldBeforeReturning() throws InterruptedException {
        database.proxy.cut();
        InferenceLog log = start(properties(0, null, Duration.ofSeconds(20)));
        for (int i = 0; i < 500; i++) {
            assertThat(log.offer(ProxiedDatabase.record())).isTrue();
        }
        assertThat(log.depth()).isEqualTo(500);
        Thread restorer = new Thread(() -> {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            database.proxy.restore();
        });
        restorer.start();

        log.stop();

        assertThat(database.rows()).isEqualTo(500);
        assertThat(log.depth()).isZero();
        assertThat(log.isRunning()).isFalse();
        assertThat(log.offer(ProxiedDatabase.record())).isFalse();
        restorer.join();
    }

    @Test
    void stopGivesUpAfterTheShutdownTimeoutAndLogsHowManyWereLost() {
        Logger logger = (Logger) LoggerFactory.getLogger(InferenceLog.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        logger.addAppender(logged);
        try {
            database.proxy.cut();
            InferenceLog log = start(properties(0, null, Duration.ofSeconds(1)));
            List<PredictionRecord> records = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                records.add(ProxiedDatabase.record());
            }
            log.offerAll(records);
            var waiting = log.awaitPersisted(ids(records), WAIT).toFuture();

            long started = System.nanoTime();
            log.stop();
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(900), Duration.ofSeconds(5));

            assertThat(log.depth()).isEqualTo(7);
            assertThat(logged.list).anySatisfy(e -> {
                assertThat(e.getLevel()).isEqualTo(Level.ERROR);
                assertThat(e.getFormattedMessage()).contains("7 predictions NOT written");
            });
            assertThatThrownBy(() -> waiting.get(5, java.util.concurrent.TimeUnit.SECONDS))
                    .hasCauseInstanceOf(IllegalStateException.class);
        } finally {
            logger.detachAppender(logged);
        }
    }

    @Test
    void refusesARecordThePostgresqlWouldRejectInsteadOfStallingOnIt() {
        InferenceLog log = start(InferenceLogProperties.defaults());
        PredictionRecord r = ProxiedDatabase.record();
        PredictionRecord bad = new PredictionRecord(r.requestId(), "nul\0user", 1, r.features(), 1, Instant.now());
        assertThatThrownBy(() -> log.offerAll(List.of(ProxiedDatabase.record(), bad)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(log.depth()).isZero();
    }
}

package io.mlgateway.inferencelog;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.mlgateway.shared.inferencelog.PredictionRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessResourceFailureException;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The writer's timing in virtual time. The database cannot run in virtual time, so the write itself is a stand-in
 * that fails on cue; InferenceLogTest and InferenceLogOutageTest cover the same paths against the real PostgreSQL.
 */
class InferenceLogRetryTest {

    /** Virtual time needs no waiting; a bound in real time makes a missed expectation fail instead of hang. */
    private static final Duration REAL_TIME_LIMIT = Duration.ofSeconds(10);

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    /** Virtual milliseconds since the scenario began, at each write attempt, and that attempt's batch size. */
    private final List<long[]> attempts = new CopyOnWriteArrayList<>();

    /** A null write timeout: the default. */
    private static InferenceLogProperties properties(int batchSize, Duration writeTimeout) {
        InferenceLogProperties d = InferenceLogProperties.defaults();
        return new InferenceLogProperties(d.capacity(), batchSize, Duration.ofMillis(50), Duration.ofMillis(100),
                Duration.ofSeconds(5), writeTimeout != null ? writeTimeout : d.writeTimeout(), d.shutdownTimeout());
    }

    /** A writer whose first {@code failures} attempts end as {@code failure} does, the rest succeed. */
    private Function<List<PredictionRecord>, Mono<Long>> writer(VirtualTimeScheduler time, int failures,
            Mono<Long> failure) {
        long start = time.now(TimeUnit.MILLISECONDS);
        return batch -> {
            attempts.add(new long[] {time.now(TimeUnit.MILLISECONDS) - start, batch.size()});
            return attempts.size() <= failures ? failure : Mono.just((long) batch.size());
        };
    }

    private List<Long> attemptTimes() {
        return attempts.stream().map(a -> a[0]).toList();
    }

    private List<Long> batchSizes() {
        return attempts.stream().map(a -> a[1]).toList();
    }

    @Test
    void writesAtOnceWhenQuietOncePerFlushIntervalWhenBusyAndFullBatchesWithoutWaiting() {
        VirtualTimeScheduler time = VirtualTimeScheduler.create();
        InferenceLog log = new InferenceLog(writer(time, 0, Mono.empty()), properties(3, null), meters, time, false,
                () -> 0.0);
        log.offer(ProxiedDatabase.record()); // t=0, nothing written lately: at once
        time.advanceTimeBy(Duration.ofMillis(10));
        log.offer(ProxiedDatabase.record()); // t=10: waits for t=50
        time.advanceTimeBy(Duration.ofMillis(10));
        log.offer(ProxiedDatabase.record()); // t=20: joins it
        time.advanceTimeBy(Duration.ofMillis(29));
        assertThat(attempts).hasSize(1);
        time.advanceTimeBy(Duration.ofMillis(1)); // t=50
        time.advanceTimeBy(Duration.ofMillis(10));
        log.offerAll(List.of(ProxiedDatabase.record(), ProxiedDatabase.record(), ProxiedDatabase.record()));
        time.advanceTimeBy(Duration.ofSeconds(1));
        log.offer(ProxiedDatabase.record()); // t=1060, quiet again: at once

        assertThat(attemptTimes()).containsExactly(0L, 50L, 60L, 1060L);
        assertThat(batchSizes()).containsExactly(1L, 2L, 3L, 1L);
        assertThat(log.depth()).isZero();
        time.dispose();
    }

    @Test
    void retriesAFailedWriteWithDoublingBackoffUntilItLands() {
        List<InferenceLog> logs = new ArrayList<>();
        StepVerifier.withVirtualTime(() -> {
                    VirtualTimeScheduler time = VirtualTimeScheduler.get();
                    InferenceLog log = new InferenceLog(
                            writer(time, 5, Mono.error(new DataAccessResourceFailureException("database down"))),
                            properties(1000, null), meters, time, false, () -> 0.0);
                    logs.add(log);
                    PredictionRecord r = ProxiedDatabase.record();
                    assertThat(log.offer(r)).isTrue();
                    return log.awaitPersisted(List.of(r.requestId()), Duration.ofMinutes(1));
                })
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(3099))
                .thenAwait(Duration.ofMillis(1))
                .expectComplete()
                .verify(REAL_TIME_LIMIT);

        // 100, 200, 400, 800, 1600 ms apart; the 50 ms tick never cuts a backoff short
        assertThat(attemptTimes()).containsExactly(0L, 100L, 300L, 700L, 1500L, 3100L);
        assertThat(meters.get("gateway.inferencelog.failed").tag("reason", "unavailable").counter().count())
                .isEqualTo(5);
        assertThat(meters.get("gateway.inferencelog.flushed").counter().count()).isEqualTo(1);
        assertThat(logs.get(0).depth()).isZero();
    }

    @Test
    void backoffIsCappedSoARecoveredDatabaseIsWrittenWithinTheMaximum() {
        StepVerifier.withVirtualTime(() -> {
                    VirtualTimeScheduler time = VirtualTimeScheduler.get();
                    InferenceLog log = new InferenceLog(
                            writer(time, 9, Mono.error(new DataAccessResourceFailureException("database down"))),
                            properties(1000, null), meters, time, false, () -> 0.0);
                    PredictionRecord r = ProxiedDatabase.record();
                    log.offer(r);
                    return log.awaitPersisted(List.of(r.requestId()), Duration.ofMinutes(1));
                })
                .thenAwait(Duration.ofSeconds(30))
                .expectComplete()
                .verify(REAL_TIME_LIMIT);

        assertThat(attemptTimes()).containsExactly(0L, 100L, 300L, 700L, 1500L, 3100L, 6300L, 11300L, 16300L, 21300L);
    }

    @Test
    void aWriteThatNeverAnswersTimesOutAndIsRetried() {
        StepVerifier.withVirtualTime(() -> {
                    VirtualTimeScheduler time = VirtualTimeScheduler.get();
                    InferenceLog log = new InferenceLog(writer(time, 1, Mono.never()),
                            properties(1000, Duration.ofSeconds(2)), meters, time, false, () -> 0.0);
                    PredictionRecord r = ProxiedDatabase.record();
                    log.offer(r);
                    return log.awaitPersisted(List.of(r.requestId()), Duration.ofMinutes(1));
                })
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(2099))
                .thenAwait(Duration.ofMillis(1))
                .expectComplete()
                .verify(REAL_TIME_LIMIT);

        assertThat(attemptTimes()).containsExactly(0L, 2100L);
        assertThat(meters.get("gateway.inferencelog.failed").tag("reason", "timeout").counter().count()).isEqualTo(1);
    }

    @Test
    void predictionsArrivingDuringABackoffJoinTheRetryUpToTheBatchSize() {
        List<PredictionRecord> later = new ArrayList<>();
        StepVerifier.withVirtualTime(() -> {
                    VirtualTimeScheduler time = VirtualTimeScheduler.get();
                    InferenceLog log = new InferenceLog(
                            writer(time, 1, Mono.error(new DataAccessResourceFailureException("database down"))),
                            properties(3, null), meters, time, false, () -> 0.0);
                    PredictionRecord first = ProxiedDatabase.record();
                    log.offer(first); // written alone at once, and fails
                    for (int i = 0; i < 4; i++) {
                        later.add(ProxiedDatabase.record());
                    }
                    assertThat(log.offerAll(later)).isTrue();
                    List<java.util.UUID> all = new ArrayList<>(later.stream().map(PredictionRecord::requestId).toList());
                    all.add(first.requestId());
                    return log.awaitPersisted(all, Duration.ofMinutes(1));
                })
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(149))
                .thenAwait(Duration.ofMillis(1))
                .expectComplete()
                .verify(REAL_TIME_LIMIT);

        // the failed batch of 1 is topped up to 3 for its retry; the last 2 follow one flush interval later
        assertThat(batchSizes()).containsExactly(1L, 3L, 2L);
        assertThat(attemptTimes()).containsExactly(0L, 100L, 150L);
        assertThat(meters.get("gateway.inferencelog.flush.batch.size").summary().max()).isEqualTo(3);
    }
}

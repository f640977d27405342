package io.mlgateway.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * Micro-batching on a real two-thread scoring pool. The max-wait timer runs on virtual time, so "has not waited
 * long enough yet" and "waited enough" are decided by the test, not by the machine's speed.
 */
class MicroBatcherTest {

    private static final Duration WAIT = Duration.ofMillis(1);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private ScoringExecutor executor;

    /** Records every batch; a batch containing "block" waits for {@link #unblock}; "bad" rows make a batch throw. */
    private final List<List<String>> batches = new CopyOnWriteArrayList<>();
    private final CountDownLatch unblock = new CountDownLatch(1);
    private final CountDownLatch blocked = new CountDownLatch(1);

    private MicroBatcher<String, String, String> batcher(int maxBatch, int capacity) {
        executor = new ScoringExecutor(new ScoringProperties(2, capacity, 1,
                new ScoringProperties.Batching(maxBatch, WAIT)), meters, time);
        return executor.batcher("m", (key, rows) -> {
            batches.add(List.copyOf(rows));
            if (rows.contains("block")) {
                blocked.countDown();
                unblock.await(10, TimeUnit.SECONDS);
            }
            if (rows.contains("bad")) {
                throw new IllegalArgumentException("cannot score 'bad'");
            }
            return rows.stream().map(r -> key + ":" + r).toList();
        });
    }

    @AfterEach
    void stop() throws InterruptedException {
        unblock.countDown();
        if (executor != null) {
            executor.destroy();
        }
    }

    @Test
    void aRowThatFindsItsModelIdleIsScoredAtOnceWithoutWaitingForTheTimer() {
        MicroBatcher<String, String, String> batcher = batcher(64, 100);
        // Virtual time never advances here: if the row waited for the max-wait timer it would never complete.
        StepVerifier.create(batcher.submit("k", "a")).expectNext("k:a").verifyComplete();
        assertThat(batches).containsExactly(List.of("a"));
        assertThat(meters.get("gateway.scoring.batch.size").tag("model", "m").summary().count()).isEqualTo(1);
    }

    @Test
    void rowsArrivingWhileTheModelScoresAreGatheredIntoOneCallAndRoutedBackInOrder() throws Exception {
        MicroBatcher<String, String, String> batcher = batcher(64, 100);
        Disposable first = batcher.submit("k", "block").subscribe();
        assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();
        // Two threads, one busy: without the timer (virtual time stands still) the next rows wait for the batch.
        List<Mono<String>> rows = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            rows.add(batcher.submit("k", "r" + i).cache());
            rows.get(i).subscribe();
        }
        assertThat(batches).hasSize(1);
        unblock.countDown();
        StepVerifier.create(Flux.concat(rows)).expectNext("k:r0", "k:r1", "k:r2", "k:r3", "k:r4", "k:r5", "k:r6",
                "k:r7", "k:r8", "k:r9").expectComplete().verify(TIMEOUT);
        assertThat(batches).hasSize(2);
        assertThat(batches.get(1)).containsExactly("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9");
        first.dispose();
    }

    @Test
    void theOldestRowWaitsAtMostMaxWaitBeforeAnotherThreadTakesTheWaitingRows() throws Exception {
        MicroBatcher<String, String, String> batcher = batcher(64, 100);
        batcher.submit("k", "block").subscribe();
        assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();
        Mono<String> a = batcher.submit("k", "a").cache();
        Mono<String> b = batcher.submit("k", "b").cache();
        a.subscribe();
        b.subscribe();
        time.advanceTimeBy(WAIT.minusNanos(1));
        assertThat(batches).hasSize(1); // not yet: the first batch still runs and max-wait has not passed
        time.advanceTimeBy(Duration.ofNanos(1));
        // The second scoring thread takes both while the first batch is still blocked.
        StepVerifier.create(Flux.concat(a, b)).expectNext("k:a", "k:b").expectComplete().verify(TIMEOUT);
        assertThat(batches.get(1)).containsExactly("a", "b");
        assertThat(unblock.getCount()).isEqualTo(1);
    }

    @Test
    void batchesNeverExceedMaxBatchSizeAndAFullBatchGoesWithoutWaiting() throws Exception {
        MicroBatcher<String, String, String> batcher = batcher(4, 100);
        batcher.submit("k", "block").subscribe();
        assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();
        List<Mono<String>> rows = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            rows.add(batcher.submit("k", "r" + i).cache());
            rows.get(i).subscribe();
        }
        // Four rows waiting = a full batch: the free thread takes it with no timer and the first batch still busy.
        StepVerifier.create(Flux.concat(rows)).expectNextCount(4).expectComplete().verify(TIMEOUT);
        for (int i = 0; i < 9; i++) {
            rows.add(batcher.submit("k", "s" + i).cache());
        }
        unblock.countDown();
        StepVerifier.create(Flux.merge(rows)).expectNextCount(13).expectComplete().verify(TIMEOUT);
        assertThat(batches).allSatisfy(b -> assertThat(b).hasSizeLessThanOrEqualTo(4));
        assertThat(batches.get(1)).containsExactly("r0", "r1", "r2", "r3");
    }

    @Test
    void separateKeysAreNeverMixedInOneCall() {
        MicroBatcher<String, String, String> batcher = batcher(64, 1000);
        List<Mono<String>> rows = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String key = "user" + (i % 3);
            rows.add(batcher.submit(key, key + "-row" + i));
        }
        StepVerifier.create(Flux.merge(rows).collectList())
                .assertNext(results -> assertThat(results).hasSize(200)
                        .allSatisfy(r -> assertThat(r.substring(0, r.indexOf(':')))
                                .isEqualTo(r.substring(r.indexOf(':') + 1, r.indexOf('-')))))
                .expectComplete().verify(TIMEOUT);
        assertThat(batches).allSatisfy(b -> assertThat(b).allSatisfy(
                r -> assertThat(r).startsWith(b.get(0).substring(0, b.get(0).indexOf('-')))));
        assertThat(batcher.activeLanes()).isZero();
    }

    @Test
    void oneBadRowFailsAloneAndItsNeighboursAreStillAnswered() throws Exception {
        MicroBatcher<String, String, String> batcher = batcher(64, 100);
        batcher.submit("k", "block").subscribe();
        assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();
        Mono<String> good1 = batcher.submit("k", "g1").cache();
        Mono<String> bad = batcher.submit("k", "bad").cache();
        Mono<String> good2 = batcher.submit("k", "g2").cache();
        good1.subscribe(x -> { }, e -> { });
        bad.subscribe(x -> { }, e -> { });
        good2.subscribe(x -> { }, e -> { });
        unblock.countDown();
        StepVerifier.create(good1).expectNext("k:g1").expectComplete().verify(TIMEOUT);
        StepVerifier.create(bad).expectErrorMessage("cannot score 'bad'").verify(TIMEOUT);
        StepVerifier.create(good2).expectNext("k:g2").expectComplete().verify(TIMEOUT);
        assertThat(batches.get(1)).containsExactly("g1", "bad", "g2");
        assertThat(meters.get("gateway.scoring.isolated.rows").counter().count()).isEqualTo(3.0);
    }

    @Test
    void rowsBeyondTheQueueCapacityAreShed() throws Exception {
        MicroBatcher<String, String, String> batcher = batcher(64, 2);
        batcher.submit("k", "block").subscribe();
        assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();
        Mono<String> a = batcher.submit("k", "a").cache();
        Mono<String> b = batcher.submit("k", "b").cache();
        a.subscribe();
        b.subscribe();
        StepVerifier.create(batcher.submit("k", "c"))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ScoringOverloadedException.class))
                .verify(TIMEOUT);
        unblock.countDown();
        StepVerifier.create(Flux.concat(a, b)).expectNext("k:a", "k:b").expectComplete().verify(TIMEOUT);
        assertThat(meters.get("gateway.scoring.rejected").tag("model", "m").counter().count()).isEqualTo(1.0);
        assertThat(meters.get("gateway.scoring.queue.depth").gauge().value()).isZero();
    }

    @Test
    void aRowCancelledWhileWaitingIsNotScored() throws Exception {
        MicroBatcher<String, String, String> batcher = batcher(64, 100);
        batcher.submit("k", "block").subscribe();
        assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();
        Disposable gone = batcher.submit("k", "gone").subscribe();
        Mono<String> kept = batcher.submit("k", "kept").cache();
        kept.subscribe();
        gone.dispose();
        unblock.countDown();
        StepVerifier.create(kept).expectNext("k:kept").expectComplete().verify(TIMEOUT);
        assertThat(batches.get(1)).containsExactly("kept");
        assertThat(meters.get("gateway.scoring.queue.depth").gauge().value()).isZero();
    }
}

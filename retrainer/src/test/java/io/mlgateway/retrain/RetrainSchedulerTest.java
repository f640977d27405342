package io.mlgateway.retrain;

import static io.mlgateway.retrain.RetrainFixtures.props;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.mlgateway.retrain.RetrainPipeline.Outcome;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * Who is retrained when ({@link RetrainScheduler}), with the triggers, the sweep's query and the pipeline faked:
 * timing in virtual time (StepVerifier), and the hand-over between runs on real threads.
 */
class RetrainSchedulerTest {

    /** The scheduler's collaborators, faked. */
    private static final class Harness {

        final Sinks.Many<String> triggers = Sinks.many().multicast().onBackpressureBuffer();
        final Sinks.Many<String> runs = Sinks.many().replay().all();
        final AtomicInteger sweeps = new AtomicInteger();
        final RetrainScheduler scheduler;

        Harness(RetrainProperties properties, Function<Integer, Flux<String>> due, Function<String, Mono<Outcome>> run) {
            ActualsListener listener = new ActualsListener(null) {
                @Override
                public Flux<String> userIds() {
                    return triggers.asFlux();
                }
            };
            RetrainStore store = new RetrainStore(null, null, null) {
                @Override
                public Flux<Due> usersDue(long threshold) {
                    return Flux.defer(() -> due.apply(sweeps.incrementAndGet())).map(user -> new Due(user, threshold));
                }

                @Override
                public Mono<Long> pendingActuals() {
                    return Mono.just(0L);
                }

                @Override
                public Mono<Long> outboxBacklog() {
                    return Mono.just(0L);
                }
            };
            RetrainPipeline pipeline = new RetrainPipeline(null, null, null, null, null, null, null) {
                @Override
                public Mono<Outcome> run(String userId) {
                    return Mono.defer(() -> {
                        synchronized (runs) {
                            runs.tryEmitNext(userId + "@" + Schedulers.parallel().now(TimeUnit.SECONDS));
                        }
                        return run.apply(userId);
                    });
                }
            };
            scheduler = new RetrainScheduler(listener, store, pipeline, properties, new SimpleMeterRegistry());
        }

        Flux<String> start() {
            scheduler.start();
            return runs.asFlux();
        }

        void trigger(String... users) {
            for (String user : users) {
                triggers.emitNext(user, Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
            }
        }
    }

    @Test
    void triggersForAUserInFlightAreCoalescedIntoOneRunAfterIt() {
        // Three slots: triggers are taken in (and coalesced) while alice and bob both fit.
        Harness h = new Harness(props().concurrency(3).sweepInterval(Duration.ofHours(1)).build(),
                sweep -> Flux.empty(), user -> Mono.delay(Duration.ofSeconds(10)).thenReturn(Outcome.RETRAINED));
        try {
            StepVerifier.withVirtualTime(h::start)
                    .then(() -> h.trigger("alice"))
                    .expectNext("alice@0")
                    // Three more notifications for alice while she fits, and one for bob.
                    .then(() -> h.trigger("alice", "alice", "bob", "alice"))
                    .expectNext("bob@0") // another user is not held up
                    .expectNoEvent(Duration.ofSeconds(9)) // alice never runs twice at once
                    .thenAwait(Duration.ofSeconds(1))
                    .expectNext("alice@10") // once more after her run, for all three
                    .expectNoEvent(Duration.ofMinutes(5))
                    .thenCancel()
                    .verify(Duration.ofSeconds(10));
        } finally {
            h.scheduler.stop();
        }
        assertThat(h.scheduler.isRunning()).isFalse();
    }

    @Test
    void theSweepRunsUsersDueEveryIntervalAndSurvivesAFailedQuery() {
        Harness h = new Harness(props().sweepInterval(Duration.ofSeconds(30)).build(),
                sweep -> sweep == 1 ? Flux.error(new IllegalStateException("database unreachable")) : Flux.just("carol"),
                user -> Mono.just(Outcome.NOT_DUE));
        try {
            StepVerifier.withVirtualTime(h::start)
                    .expectSubscription()
                    .expectNoEvent(Duration.ofSeconds(30)) // the first sweep (t=0) failed: logged, not fatal
                    .expectNext("carol@30")
                    .thenAwait(Duration.ofSeconds(30))
                    .expectNext("carol@60")
                    .thenCancel()
                    .verify(Duration.ofSeconds(10));
        } finally {
            h.scheduler.stop();
        }
        assertThat(h.sweeps.get()).isEqualTo(3);
    }

    @Test
    void aPipelineErrorDoesNotStopTheScheduler() {
        AtomicInteger calls = new AtomicInteger();
        Harness h = new Harness(props().sweepInterval(Duration.ofHours(1)).build(), sweep -> Flux.empty(),
                user -> calls.incrementAndGet() == 1 ? Mono.error(new IllegalStateException("bug")) : Mono.just(Outcome.RETRAINED));
        try {
            StepVerifier.withVirtualTime(h::start)
                    .then(() -> h.trigger("dave"))
                    .expectNext("dave@0")
                    .thenAwait(Duration.ofSeconds(5))
                    .then(() -> h.trigger("dave"))
                    .expectNext("dave@5")
                    .thenCancel()
                    .verify(Duration.ofSeconds(10));
        } finally {
            h.scheduler.stop();
        }
    }

    /**
     * Eight users fit at once, each with a trigger that arrived meanwhile; their runs end at the same moment on
     * eight threads. Every one of them must run again: a re-run handed over by a run ending on one thread must
     * not be lost because another run ended at the same time on another.
     */
    @Test
    void reRunsHandedOverByRunsEndingConcurrentlyAreNeverLost() throws Exception {
        int users = 8;
        String[] names = IntStream.range(0, users).mapToObj(i -> "user" + i).toArray(String[]::new);
        AtomicReference<CountDownLatch> gate = new AtomicReference<>(new CountDownLatch(1));
        AtomicInteger started = new AtomicInteger();
        ConcurrentHashMap<String, AtomicInteger> perUser = new ConcurrentHashMap<>();
        Harness h = new Harness(props().concurrency(users).sweepInterval(Duration.ofHours(1)).build(),
                sweep -> Flux.empty(), user -> {
                    CountDownLatch mine = gate.get();
                    started.incrementAndGet();
                    perUser.computeIfAbsent(user, u -> new AtomicInteger()).incrementAndGet();
                    return Mono.fromCallable(() -> {
                        mine.await(30, TimeUnit.SECONDS);
                        return Outcome.RETRAINED;
                    }).subscribeOn(Schedulers.boundedElastic());
                });
        try {
            h.start();
            h.trigger(names);
            awaitCount(started, users, "first runs");
            for (int round = 1; round <= 40; round++) {
                h.trigger(names); // every user in flight gets a pending re-run
                CountDownLatch release = gate.getAndSet(new CountDownLatch(1));
                release.countDown(); // all eight runs end at once, on eight threads
                awaitCount(started, users * (round + 1), "re-runs of round " + round + " (runs per user: " + perUser + ")");
            }
        } finally {
            gate.get().countDown();
            h.scheduler.stop();
        }
    }

    private static void awaitCount(AtomicInteger counter, int expected, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (counter.get() < expected && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(counter.get()).as(what).isEqualTo(expected);
    }
}

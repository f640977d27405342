package io.mlgateway.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class ScoringExecutorTest {

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final ScoringExecutor executor = new ScoringExecutor(new ScoringProperties(1, 1, 3), meters);

    @AfterEach
    void stop() throws InterruptedException {
        executor.destroy();
    }

    @Test
    void runsWorkOnAScoringThreadAndRecordsItsLatency() {
        StepVerifier.create(executor.submit("m", () -> Thread.currentThread().getName()))
                .assertNext(name -> assertThat(name).startsWith("scoring-"))
                .verifyComplete();
        assertThat(meters.get("gateway.scoring.latency").tag("model", "m").timer().count()).isEqualTo(1);
    }

    @Test
    void aQueueOfNoRowsIsRefusedAtStartUpRatherThanRefusingEveryRequest() {
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                .isThrownBy(() -> new ScoringProperties(1, 0, 1))
                .withMessageContaining("gateway.scoring.queue-capacity must be at least 1");
    }

    @Test
    void propagatesScoringFailures() {
        StepVerifier.create(executor.submit("m", () -> {
            throw new IllegalStateException("native failure");
        })).expectErrorMessage("native failure").verify(Duration.ofSeconds(5));
    }

    @Test
    void shedsWorkWhenThreadAndQueueAreFull() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch running = new CountDownLatch(1);
        Disposable busy = executor.submit("m", () -> {
            running.countDown();
            return release.await(10, TimeUnit.SECONDS);
        }).subscribe();
        assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
        Mono<String> queued = executor.submit("m", () -> "queued"); // fills the single queue slot when subscribed
        StepVerifier.create(queued)
                .then(() -> StepVerifier.create(executor.submit("m", () -> "shed"))
                        .expectErrorSatisfies(e -> assertThat(e).isInstanceOfSatisfying(
                                ScoringOverloadedException.class, o -> assertThat(o.retryAfterSeconds()).isEqualTo(3)))
                        .verify(Duration.ofSeconds(5)))
                .then(release::countDown)
                .expectNext("queued")
                .verifyComplete();
        assertThat(meters.get("gateway.scoring.rejected").tag("model", "m").counter().count()).isEqualTo(1.0);
        busy.dispose();
    }

    @Test
    void workCancelledBeforeItStartsIsNotRun() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch running = new CountDownLatch(1);
        executor.submit("m", () -> {
            running.countDown();
            return release.await(10, TimeUnit.SECONDS);
        }).subscribe();
        assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
        AtomicBoolean ran = new AtomicBoolean();
        Disposable waiting = executor.submit("m", () -> ran.getAndSet(true)).subscribe();
        waiting.dispose();
        release.countDown();
        StepVerifier.create(executor.submit("m", () -> "after")).expectNext("after").verifyComplete();
        assertThat(ran).isFalse();
    }
}

package io.mlgateway.retrain;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.shared.testing.LocalServices;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * Two retrainer instances (each its own pool, as two processes) never retrain one user at once: the user's lock in
 * PostgreSQL is held for the run and released after it, whatever the outcome.
 */
class RetrainLockTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private final LocalServices.TestDatabase database = LocalServices.freshDatabase();
    private final RetrainFixtures.Instance one = new RetrainFixtures.Instance(database, "one");
    private final RetrainFixtures.Instance two = new RetrainFixtures.Instance(database, "two");

    @AfterEach
    void close() throws Exception {
        one.close();
        two.close();
    }

    @Test
    void whileOneInstanceRetrainsAUserTheOtherLeavesItAndOtherUsersAreFree() {
        Sinks.One<String> release = Sinks.one();
        Sinks.Empty<Void> holding = Sinks.empty();
        Mono<String> first = one.store.exclusively("alice", Mono.defer(() -> {
            holding.tryEmitEmpty();
            return release.asMono();
        }), "busy").cache();
        first.subscribe();
        StepVerifier.create(holding.asMono()).verifyComplete();
        // Held: the other instance is told at once, for alice only.
        StepVerifier.create(two.store.exclusively("alice", Mono.just("ran"), "busy")).expectNext("busy")
                .verifyComplete();
        StepVerifier.create(two.store.exclusively("bob", Mono.just("ran"), "busy")).expectNext("ran")
                .verifyComplete();

        release.tryEmitValue("done");
        StepVerifier.create(first).expectNext("done").verifyComplete();
        StepVerifier.create(two.store.exclusively("alice", Mono.just("ran"), "busy")).expectNext("ran")
                .verifyComplete();
    }

    @Test
    void theLockIsReleasedAfterAFailureAndAfterACancellation() {
        StepVerifier.create(one.store.exclusively("alice", Mono.error(new IllegalStateException("fit failed")), "busy"))
                .expectErrorMessage("fit failed").verify(WAIT);
        StepVerifier.create(two.store.exclusively("alice", Mono.just("ran"), "busy")).expectNext("ran")
                .verifyComplete();

        StepVerifier.create(one.store.exclusively("alice", Mono.never(), "busy"))
                .expectSubscription().thenAwait(Duration.ofMillis(300)).thenCancel().verify(WAIT);
        // The unlock runs asynchronously after the cancellation: the other instance gets the user within moments.
        long deadline = System.nanoTime() + WAIT.toNanos();
        String outcome;
        do {
            outcome = two.store.exclusively("alice", Mono.just("ran"), "busy").block(WAIT);
        } while (!"ran".equals(outcome) && System.nanoTime() < deadline);
        assertThat(outcome).isEqualTo("ran");
    }
}

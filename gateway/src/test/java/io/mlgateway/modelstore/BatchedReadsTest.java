package io.mlgateway.modelstore;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/** The batching of reads, against a query whose completion the test controls. */
class BatchedReadsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    /** A query per call, answering every key whose name starts with "has" once the test completes it. */
    private final List<List<String>> queries = new ArrayList<>();
    private final List<Sinks.One<Map<String, String>>> pending = new ArrayList<>();

    private Mono<Map<String, String>> query(List<String> keys) {
        queries.add(keys);
        Sinks.One<Map<String, String>> result = Sinks.one();
        pending.add(result);
        return result.asMono();
    }

    private void answer(int query) {
        Map<String, String> values = new HashMap<>();
        queries.get(query).stream().filter(k -> k.startsWith("has")).forEach(k -> values.put(k, "value of " + k));
        pending.get(query).tryEmitValue(values);
    }

    @Test
    void aLoneReadIsAQueryOfOneAndAKeyWithoutValueReadsEmpty() {
        BatchedReads<String> reads = new BatchedReads<>(this::query, 2, 100);
        Mono<String> found = reads.read("has-1").cache();
        Mono<String> missing = reads.read("nothing").cache();
        found.subscribe();
        missing.subscribe();
        assertThat(queries).containsExactly(List.of("has-1"), List.of("nothing"));
        answer(0);
        answer(1);
        StepVerifier.create(found).expectNext("value of has-1").verifyComplete();
        StepVerifier.create(missing).verifyComplete();
    }

    @Test
    void readsArrivingWhileTheQueriesRunGoTogetherInTheNextOnesUpToTheBatchSize() {
        BatchedReads<String> reads = new BatchedReads<>(this::query, 1, 3);
        List<Mono<String>> results = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Mono<String> read = reads.read("has-" + i).cache();
            read.subscribe();
            results.add(read);
        }
        // The first read starts a query at once; the seven others wait for it, then go three at a time.
        assertThat(queries).containsExactly(List.of("has-0"));
        assertThat(reads.waiting()).isEqualTo(7);
        answer(0);
        assertThat(queries).hasSize(2).last().isEqualTo(List.of("has-1", "has-2", "has-3"));
        answer(1);
        answer(2);
        assertThat(queries).containsExactly(List.of("has-0"), List.of("has-1", "has-2", "has-3"),
                List.of("has-4", "has-5", "has-6"), List.of("has-7"));
        answer(3);
        for (int i = 0; i < 8; i++) {
            StepVerifier.create(results.get(i)).expectNext("value of has-" + i).expectComplete().verify(TIMEOUT);
        }
        assertThat(reads.waiting()).isZero();
    }

    @Test
    void aFailedQueryFailsItsReadsOnlyAndTheNextQueryStillRuns() {
        BatchedReads<String> reads = new BatchedReads<>(this::query, 1, 10);
        Mono<String> first = reads.read("has-a").cache();
        first.subscribe();
        Mono<String> second = reads.read("has-b").cache();
        second.subscribe();
        pending.get(0).tryEmitError(new IllegalStateException("registry down"));
        StepVerifier.create(first).expectErrorMessage("registry down").verify(TIMEOUT);
        assertThat(queries).hasSize(2);
        answer(1);
        StepVerifier.create(second).expectNext("value of has-b").verifyComplete();
    }

    @Test
    void readAllGathersManyKeysIntoBatches() {
        BatchedReads<String> reads = new BatchedReads<>(keys -> Flux.fromIterable(keys).filter(k -> k.startsWith("has"))
                .collectMap(k -> k, k -> "value of " + k), 2, 400);
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            keys.add((i % 2 == 0 ? "has-" : "none-") + i);
        }
        Map<String, String> all = reads.readAll(keys).block(TIMEOUT);
        assertThat(all).hasSize(500).containsEntry("has-998", "value of has-998").doesNotContainKey("none-1");
    }
}

package io.mlgateway.retrain;

import static io.mlgateway.retrain.RetrainFixtures.props;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.mlgateway.shared.modelstore.RedisModelCache;
import io.mlgateway.shared.notify.ModelRetrainedMessage;
import io.mlgateway.shared.notify.OutboxEntry;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.kafka.sender.KafkaOutbound;
import reactor.kafka.sender.KafkaSender;
import reactor.kafka.sender.SenderRecord;
import reactor.kafka.sender.SenderResult;
import reactor.kafka.sender.TransactionManager;
import reactor.test.StepVerifier;

/**
 * The outbox relay's timing in virtual time, with the outbox, Redis and Kafka faked: an announcement that cannot
 * be sent is retried every {@code outboxInterval} until it is, a hung Redis or Kafka is timed out and retried, the
 * relay never stops, and entries go out in order. (On the real services: {@link OutboxRelayTest}.)
 */
class OutboxRelayTimingTest {

    private static final Duration INTERVAL = Duration.ofSeconds(2);

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final RetrainEvents events = new RetrainEvents(meters);
    private CapturedEvents log;

    @BeforeEach
    void capture() {
        RetrainFixtures.props(); // quiet default logging
        log = CapturedEvents.attach();
    }

    @AfterEach
    void release() {
        log.detach();
    }

    enum Answer { OK, ERROR, FAILED_RESULT, HANG }

    /** The outbox table, in memory. */
    private static final class FakeOutbox extends RetrainStore {

        final List<OutboxEntry> entries = new CopyOnWriteArrayList<>();
        final Set<Long> published = ConcurrentHashMap.newKeySet();
        final AtomicInteger marks = new AtomicInteger();

        FakeOutbox(OutboxEntry... initial) {
            super(null, null, null);
            entries.addAll(List.of(initial));
        }

        @Override
        public Flux<OutboxEntry> unpublished(int limit) {
            return Flux.defer(() -> Flux.fromIterable(entries).filter(e -> !published.contains(e.id())).take(limit));
        }

        @Override
        public Mono<Void> markPublished(long id) {
            return Mono.fromRunnable(() -> {
                marks.incrementAndGet();
                published.add(id);
            });
        }
    }

    private static String now() {
        return Long.toString(Schedulers.parallel().now(TimeUnit.SECONDS));
    }

    /** Redis: answers each DEL as told (by attempt number), logging "user@t". */
    private static final class FakeRedis extends RedisModelCache {

        final List<String> evictions = new CopyOnWriteArrayList<>();
        private final IntFunction<Answer> answers;

        FakeRedis(IntFunction<Answer> answers) {
            super(Mono.empty(), Duration.ofHours(1));
            this.answers = answers;
        }

        @Override
        public Mono<Long> evict(String userId) {
            return Mono.defer(() -> {
                evictions.add(userId + "@" + now());
                return switch (answers.apply(evictions.size())) {
                    case OK -> Mono.just(1L);
                    case HANG -> Mono.never();
                    default -> Mono.error(new io.lettuce.core.RedisConnectionException("Connection refused"));
                };
            });
        }
    }

    /** Kafka: answers each send as told (by attempt number), logging "user#attempt@t" to {@link #sends}. */
    private static final class FakeKafka implements KafkaSender<String, byte[]> {

        final Sinks.Many<String> sends = Sinks.many().replay().all();
        final List<ModelRetrainedMessage> delivered = new CopyOnWriteArrayList<>();
        private final AtomicInteger attempts = new AtomicInteger();
        private final IntFunction<Answer> answers;

        FakeKafka(IntFunction<Answer> answers) {
            this.answers = answers;
        }

        @Override
        public <T> Flux<SenderResult<T>> send(Publisher<? extends SenderRecord<String, byte[], T>> records) {
            return Flux.from(records).concatMap(r -> {
                int n = attempts.incrementAndGet();
                sends.tryEmitNext(r.key() + "#" + n + "@" + now());
                return switch (answers.apply(n)) {
                    case OK -> Mono.fromSupplier(() -> {
                        delivered.add(ModelRetrainedMessage.fromJson(r.value()));
                        return result(r.correlationMetadata(), null);
                    });
                    case ERROR -> Mono.error(new TimeoutException("Topic model-retrained not present in metadata after 5000 ms."));
                    case FAILED_RESULT -> Mono.just(result(r.correlationMetadata(),
                            new org.apache.kafka.common.errors.NetworkException("broker gone")));
                    case HANG -> Mono.never();
                };
            });
        }

        private static <T> SenderResult<T> result(T correlation, Exception exception) {
            return new SenderResult<>() {
                @Override
                public RecordMetadata recordMetadata() {
                    return null;
                }

                @Override
                public Exception exception() {
                    return exception;
                }

                @Override
                public T correlationMetadata() {
                    return correlation;
                }
            };
        }

        @Override
        public <T> Flux<Flux<SenderResult<T>>> sendTransactionally(
                Publisher<? extends Publisher<? extends SenderRecord<String, byte[], T>>> records) {
            throw new UnsupportedOperationException();
        }

        @Override
        public TransactionManager transactionManager() {
            throw new UnsupportedOperationException();
        }

        @Override
        public KafkaOutbound<String, byte[]> createOutbound() {
            throw new UnsupportedOperationException();
        }

        @Override
        public <T> Mono<T> doOnProducer(Function<Producer<String, byte[]>, ? extends T> function) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }

    private OutboxRelay relay(FakeOutbox outbox, FakeRedis redis, FakeKafka kafka, Duration interval) {
        return new OutboxRelay(outbox, redis, kafka, events, props().outboxInterval(interval).build());
    }

    private double failures(String stage) {
        Counter c = meters.find("retrainer.outbox.failures").tag("stage", stage).counter();
        return c == null ? 0 : c.count();
    }

    private static OutboxEntry success(long id, String user, long version) {
        return new OutboxEntry(id, user, ModelRetrainedMessage.SUCCESS, version, null);
    }

    @Test
    void anAnnouncementKafkaRefusesIsRetriedEveryIntervalUntilSentThenMarkedOnce() {
        FakeOutbox outbox = new FakeOutbox(success(1, "alice", 7));
        FakeKafka kafka = new FakeKafka(n -> n == 1 ? Answer.ERROR : n == 2 ? Answer.FAILED_RESULT : Answer.OK);
        FakeRedis redis = new FakeRedis(n -> Answer.OK);
        OutboxRelay relay = relay(outbox, redis, kafka, INTERVAL);
        try {
            StepVerifier.withVirtualTime(() -> {
                relay.start();
                return kafka.sends.asFlux();
            })
                    .expectNext("alice#1@0")
                    .then(() -> assertThat(outbox.published).isEmpty())
                    .thenAwait(INTERVAL)
                    .expectNext("alice#2@2")
                    .then(() -> assertThat(outbox.published).isEmpty())
                    .thenAwait(INTERVAL)
                    .expectNext("alice#3@4")
                    .expectNoEvent(Duration.ofMinutes(5)) // sent: never again
                    .thenCancel()
                    .verify(Duration.ofSeconds(10));
            assertThat(relay.isRunning()).as("failures never stop the relay").isTrue();
        } finally {
            relay.stop();
        }
        assertThat(outbox.published).containsExactly(1L);
        assertThat(outbox.marks).hasValue(1);
        assertThat(kafka.delivered).containsExactly(ModelRetrainedMessage.success("alice", 7));
        // Evicted before every attempt to notify (a DEL twice is harmless), never after the message went out.
        assertThat(redis.evictions).containsExactly("alice@0", "alice@2", "alice@4");
        assertThat(failures("notify")).isEqualTo(2);
        assertThat(failures("cache_evict")).isZero();
        assertThat(log.of("retrain.outbox_retry")).hasSize(2).allSatisfy(e -> {
            assertThat(e.get("stage")).isEqualTo("notify");
            assertThat(e.get("level")).isEqualTo("WARN");
        });
    }

    @Test
    void aKafkaSendThatNeverAnswersTimesOutAndIsRetried() {
        FakeOutbox outbox = new FakeOutbox(success(1, "bob", 8));
        FakeKafka kafka = new FakeKafka(n -> n == 1 ? Answer.HANG : Answer.OK);
        OutboxRelay relay = relay(outbox, new FakeRedis(n -> Answer.OK), kafka, INTERVAL);
        try {
            StepVerifier.withVirtualTime(() -> {
                relay.start();
                return kafka.sends.asFlux();
            })
                    .expectNext("bob#1@0")
                    .expectNoEvent(Duration.ofSeconds(14)) // the relay's 15 s send timeout
                    .then(() -> assertThat(failures("notify")).isZero())
                    .thenAwait(Duration.ofSeconds(1))
                    .then(() -> assertThat(failures("notify")).isEqualTo(1))
                    // Retried at once: a tick fell due while the send hung.
                    .expectNext("bob#2@15")
                    .thenCancel()
                    .verify(Duration.ofSeconds(10));
        } finally {
            relay.stop();
        }
        assertThat(outbox.published).containsExactly(1L);
        assertThat(log.of("retrain.outbox_retry")).singleElement()
                .satisfies(e -> assertThat((String) e.get("error")).contains("Timeout"));
    }

    @Test
    void aRedisThatIsDownOrHangsHoldsTheAnnouncementBackAndIsRetried() {
        FakeOutbox outbox = new FakeOutbox(success(1, "carol", 9));
        FakeRedis redis = new FakeRedis(n -> n == 1 ? Answer.ERROR : n == 2 ? Answer.HANG : Answer.OK);
        FakeKafka kafka = new FakeKafka(n -> Answer.OK);
        OutboxRelay relay = relay(outbox, redis, kafka, INTERVAL);
        try {
            StepVerifier.withVirtualTime(() -> {
                relay.start();
                return kafka.sends.asFlux();
            })
                    .expectSubscription()
                    // t=0 refused, t=2 hangs until the 5 s eviction timeout, then the next tick evicts and sends.
                    .expectNoEvent(Duration.ofSeconds(6))
                    .then(() -> {
                        assertThat(outbox.published).isEmpty();
                        assertThat(redis.evictions).containsExactly("carol@0", "carol@2");
                    })
                    .thenAwait(Duration.ofSeconds(1))
                    .expectNext("carol#1@7") // the timed-out attempt (t=2..7) is retried at once
                    .thenCancel()
                    .verify(Duration.ofSeconds(10));
        } finally {
            relay.stop();
        }
        assertThat(outbox.published).containsExactly(1L);
        assertThat(failures("cache_evict")).isEqualTo(2);
        assertThat(failures("notify")).isZero();
        assertThat(log.of("retrain.outbox_retry")).hasSize(2)
                .allSatisfy(e -> assertThat(e.get("stage")).isEqualTo("cache_evict"));
    }

    @Test
    void entriesGoOutInOrderAndAKickSendsAtOnce() {
        FakeOutbox outbox = new FakeOutbox(success(1, "dave", 10), success(2, "erin", 11));
        FakeKafka kafka = new FakeKafka(n -> n == 1 ? Answer.ERROR : Answer.OK);
        FakeRedis redis = new FakeRedis(n -> Answer.OK);
        OutboxRelay relay = relay(outbox, redis, kafka, Duration.ofMinutes(1));
        try {
            StepVerifier.withVirtualTime(() -> {
                relay.start();
                return kafka.sends.asFlux();
            })
                    .expectNext("dave#1@0") // fails: erin must wait behind dave
                    .expectNoEvent(Duration.ofSeconds(59))
                    .thenAwait(Duration.ofSeconds(1))
                    .expectNext("dave#2@60", "erin#3@60")
                    .thenAwait(Duration.ofSeconds(10))
                    .then(() -> {
                        // A failure announcement (no eviction), committed at t=70: the pipeline kicks the relay.
                        outbox.entries.add(new OutboxEntry(3, "frank", ModelRetrainedMessage.FAILED, null, "validation"));
                        relay.kick();
                    })
                    .expectNext("frank#4@70") // not at the next interval (t=120)
                    .thenCancel()
                    .verify(Duration.ofSeconds(10));
        } finally {
            relay.stop();
        }
        assertThat(kafka.delivered).containsExactly(ModelRetrainedMessage.success("dave", 10),
                ModelRetrainedMessage.success("erin", 11), ModelRetrainedMessage.failed("frank", "validation"));
        assertThat(redis.evictions).extracting(e -> e.substring(0, e.indexOf('@'))).doesNotContain("frank");
        assertThat(outbox.published).containsExactlyInAnyOrder(1L, 2L, 3L);
    }
}

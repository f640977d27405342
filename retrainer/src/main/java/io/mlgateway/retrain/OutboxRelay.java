package io.mlgateway.retrain;

import io.mlgateway.shared.modelstore.RedisModelCache;
import io.mlgateway.shared.notify.ModelRetrainedMessage;
import io.mlgateway.shared.notify.OutboxEntry;
import java.time.Duration;
import org.apache.kafka.clients.producer.ProducerRecord;
import io.mlgateway.shared.lifecycle.SubscriptionLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.kafka.sender.KafkaSender;
import reactor.kafka.sender.SenderRecord;

/**
 * Steps 5 and 6, from the transactional outbox: for each stored version, {@code DEL model:{user_id}} then
 * publish {@code {user_id, status, version}} to {@value ModelRetrainedMessage#TOPIC} (key = user id), then mark
 * it sent. Entries go out in order, one at a time; if Redis or Kafka is down the entry stays and the relay
 * retries every {@code outboxInterval}, so a stored version is always announced, also after a crash. A retry may
 * repeat a send: consumers tolerate duplicates.
 */
@Component
public class OutboxRelay extends SubscriptionLifecycle {

    private final RetrainStore store;
    private final RedisModelCache redis;
    private final KafkaSender<String, byte[]> kafka;
    private final RetrainEvents events;
    private final RetrainProperties properties;
    private final Sinks.Many<Boolean> kicks = Sinks.many().multicast().directBestEffort();

    public OutboxRelay(RetrainStore store, RedisModelCache redis, KafkaSender<String, byte[]> kafka,
            RetrainEvents events, RetrainProperties properties) {
        this.store = store;
        this.redis = redis;
        this.kafka = kafka;
        this.events = events;
        this.properties = properties;
    }

    /** Asks for a drain now (after a commit), instead of at the next interval. */
    public void kick() {
        kicks.tryEmitNext(true);
    }

    /** Sends every pending entry in order; stops at the first that cannot be sent (it is retried later). */
    public Mono<Long> drain() {
        return store.unpublished(100)
                .concatMap(this::publish)
                .count();
    }

    Mono<OutboxEntry> publish(OutboxEntry entry) {
        Mono<Void> evict = !entry.changesModel() ? Mono.empty() : Mono.defer(() -> {
            long started = System.nanoTime();
            return redis.evict(entry.userId())
                    .timeout(Duration.ofSeconds(5))
                    .doOnNext(removed -> events.cacheEvict(entry.userId(), RedisModelCache.key(entry.userId()),
                            removed, millisSince(started)))
                    .doOnError(e -> events.publishFailed("cache_evict", e.toString()))
                    .then();
        });
        Mono<Void> notify = Mono.defer(() -> {
            long started = System.nanoTime();
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(ModelRetrainedMessage.TOPIC, entry.userId(),
                    entry.message().toJson());
            return kafka.send(Mono.just(SenderRecord.create(record, entry.id())))
                    .next()
                    .timeout(Duration.ofSeconds(15))
                    .flatMap(result -> result.exception() == null ? Mono.just(result) : Mono.error(result.exception()))
                    .doOnNext(result -> events.notified(entry.userId(), ModelRetrainedMessage.TOPIC, entry.status(),
                            entry.version(), millisSince(started)))
                    .doOnError(e -> events.publishFailed("notify", e.toString()))
                    .then();
        });
        return evict.then(notify).then(store.markPublished(entry.id())).thenReturn(entry);
    }

    @Override
    protected Disposable subscribe() {
        return Flux.merge(Flux.interval(Duration.ZERO, properties.outboxInterval()).map(t -> true), kicks.asFlux())
                .onBackpressureDrop()
                .concatMap(tick -> drain().onErrorResume(e -> Mono.empty()), 1)
                .subscribe();
    }


    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}

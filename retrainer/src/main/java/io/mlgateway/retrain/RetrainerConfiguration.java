package io.mlgateway.retrain;

import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.modelstore.RedisModelCache;
import io.mlgateway.shared.storage.KafkaConnectionProperties;
import io.mlgateway.shared.storage.LazyRedisConnection;
import io.mlgateway.shared.storage.StorageBeans;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.kafka.sender.KafkaSender;
import reactor.kafka.sender.SenderOptions;

/**
 * The retrainer's wiring: the shared connections ({@link StorageBeans}; all lazy, so it starts with any service
 * down) plus what only the retrainer uses.
 */
@Configuration(proxyBeanMethods = false)
@Import(StorageBeans.class)
public class RetrainerConfiguration {

    @Bean
    RetrainStore retrainStore(DatabaseClient db, TransactionalOperator tx, ModelRegistry registry) {
        return new RetrainStore(db, tx, registry);
    }

    @Bean
    RedisModelCache redisModelCache(LazyRedisConnection connection) {
        // The retrainer only deletes keys; the TTL is the gateway's business.
        return new RedisModelCache(Mono.defer(connection::commands), Duration.ofHours(1));
    }

    @Bean(destroyMethod = "close")
    KafkaSender<String, byte[]> kafkaSender(KafkaConnectionProperties kafka) {
        return KafkaSender.create(SenderOptions.<String, byte[]>create(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                // Fail a send within seconds when Kafka is down; the outbox keeps the message and retries.
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 5000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 10000,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class)));
    }

    /** Fits are CPU-bound and blocking: a bounded pool of their own, never an event loop. */
    @Bean(destroyMethod = "dispose")
    Scheduler trainingScheduler(RetrainProperties properties) {
        return Schedulers.newBoundedElastic(properties.concurrency(), 1000, "retrain-fit", 60, true);
    }
}

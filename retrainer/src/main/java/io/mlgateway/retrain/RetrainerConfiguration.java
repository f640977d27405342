package io.mlgateway.retrain;

import io.lettuce.core.RedisClient;
import io.mlgateway.core.modelstore.ModelRegistry;
import io.mlgateway.core.modelstore.RedisModelCache;
import io.mlgateway.core.retrain.RetrainStore;
import io.mlgateway.core.storage.Connections;
import io.mlgateway.core.storage.DatabaseProperties;
import io.mlgateway.core.storage.KafkaProperties;
import io.mlgateway.core.storage.LazyRedisConnection;
import io.mlgateway.core.storage.RedisProperties;
import io.r2dbc.pool.ConnectionPool;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.kafka.sender.KafkaSender;
import reactor.kafka.sender.SenderOptions;

/** PostgreSQL, Redis and Kafka for the retrainer; all connect lazily, so it starts with any of them down. */
@Configuration(proxyBeanMethods = false)
public class RetrainerConfiguration {

    @Bean(destroyMethod = "dispose")
    ConnectionPool connectionPool(DatabaseProperties properties) {
        return Connections.connectionPool(properties, "retrainer");
    }

    @Bean
    DatabaseClient databaseClient(ConnectionPool pool) {
        return DatabaseClient.create(pool);
    }

    @Bean
    TransactionalOperator transactionalOperator(ConnectionPool pool) {
        return TransactionalOperator.create(new R2dbcTransactionManager(pool));
    }

    @Bean
    ModelRegistry modelRegistry(DatabaseClient db, TransactionalOperator tx) {
        return new ModelRegistry(db, tx);
    }

    @Bean
    RetrainStore retrainStore(DatabaseClient db, TransactionalOperator tx, ModelRegistry registry) {
        return new RetrainStore(db, tx, registry);
    }

    @Bean(destroyMethod = "shutdown")
    RedisClient redisClient(RedisProperties properties) {
        return Connections.redisClient(properties);
    }

    @Bean
    LazyRedisConnection redisConnection(RedisClient client, RedisProperties properties) {
        return new LazyRedisConnection(client, properties.url(), properties.timeout());
    }

    @Bean
    RedisModelCache redisModelCache(LazyRedisConnection connection) {
        // The retrainer only deletes keys; the TTL is the gateway's business.
        return new RedisModelCache(Mono.defer(connection::commands), Duration.ofHours(1));
    }

    @Bean(destroyMethod = "close")
    KafkaSender<String, byte[]> kafkaSender(KafkaProperties kafka) {
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

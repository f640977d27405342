package io.mlgateway.storage;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.TimeoutOptions;
import io.mlgateway.core.actuals.ActualsTable;
import io.mlgateway.core.modelstore.ModelRegistry;
import io.mlgateway.core.modelstore.RedisModelCache;
import io.mlgateway.modelstore.ModelCacheProperties;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactoryOptions;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

/**
 * Connections to PostgreSQL and Redis. Both connect lazily and never at start-up, so the gateway starts and
 * serves regno with neither running; rentals requests fail fast (and clearly) until they are reachable.
 */
@Configuration(proxyBeanMethods = false)
public class StorageConfiguration {

    @Bean(destroyMethod = "dispose")
    ConnectionPool connectionPool(DatabaseProperties properties) {
        ConnectionFactoryOptions options = ConnectionFactoryOptions.parse(properties.url()).mutate()
                .option(ConnectionFactoryOptions.USER, properties.username())
                .option(ConnectionFactoryOptions.PASSWORD, properties.password())
                .option(ConnectionFactoryOptions.CONNECT_TIMEOUT, properties.pool().maxAcquireTime())
                .build();
        return new ConnectionPool(ConnectionPoolConfiguration.builder(ConnectionFactories.get(options))
                .name("gateway")
                .maxSize(properties.pool().maxSize())
                .initialSize(properties.pool().initialSize())
                .minIdle(0)
                .maxAcquireTime(properties.pool().maxAcquireTime())
                .acquireRetry(0)
                .build());
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
    ActualsTable actualsTable(DatabaseClient db) {
        return new ActualsTable(db);
    }

    @Bean(destroyMethod = "shutdown")
    RedisClient redisClient(RedisProperties properties) {
        RedisClient client = RedisClient.create(properties.url());
        client.setOptions(ClientOptions.builder()
                // While Redis is down, fail commands at once instead of queueing them until it returns:
                // a prediction must never wait on the cache.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .autoReconnect(true)
                .timeoutOptions(TimeoutOptions.enabled(properties.timeout()))
                .build());
        return client;
    }

    @Bean
    LazyRedisConnection redisConnection(RedisClient client, RedisProperties properties) {
        return new LazyRedisConnection(client, properties.url(), properties.timeout());
    }

    @Bean
    RedisModelCache redisModelCache(LazyRedisConnection connection, ModelCacheProperties cache) {
        return new RedisModelCache(Mono.defer(connection::commands), cache.redisTtl());
    }
}

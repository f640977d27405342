package io.mlgateway.storage;

import io.lettuce.core.RedisClient;
import io.mlgateway.core.actuals.ActualsTable;
import io.mlgateway.core.modelstore.ModelRegistry;
import io.mlgateway.core.modelstore.RedisModelCache;
import io.mlgateway.core.storage.Connections;
import io.mlgateway.core.storage.DatabaseProperties;
import io.mlgateway.core.storage.LazyRedisConnection;
import io.mlgateway.core.storage.RedisProperties;
import io.mlgateway.modelstore.ModelCacheProperties;
import io.r2dbc.pool.ConnectionPool;
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
        return Connections.connectionPool(properties, "gateway");
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
        return Connections.redisClient(properties);
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

package io.mlgateway.shared.storage;

import io.lettuce.core.RedisClient;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.r2dbc.pool.ConnectionPool;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;

/**
 * The beans both apps wire the same way: the PostgreSQL pool and client, transactions, the model registry, and
 * the lazy Redis connection. Import it ({@code @Import(StorageBeans.class)}); app-specific beans stay in the app.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties({DatabaseProperties.class, RedisConnectionProperties.class,
        KafkaConnectionProperties.class})
public class StorageBeans {

    @Bean(destroyMethod = "dispose")
    ConnectionPool connectionPool(DatabaseProperties properties, @Value("${spring.application.name:app}") String name) {
        return Connections.connectionPool(properties, name);
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

    @Bean(destroyMethod = "shutdown")
    RedisClient redisClient(RedisConnectionProperties properties) {
        return Connections.redisClient(properties);
    }

    @Bean
    LazyRedisConnection redisConnection(RedisClient client, RedisConnectionProperties properties) {
        return new LazyRedisConnection(client, properties.url(), properties.timeout());
    }
}

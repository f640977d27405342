package io.mlgateway.storage;

import io.mlgateway.shared.actuals.ActualsTable;
import io.mlgateway.shared.modelstore.RedisModelCache;
import io.mlgateway.shared.storage.LazyRedisConnection;
import io.mlgateway.shared.notify.RetrainOutbox;
import io.mlgateway.shared.storage.StorageBeans;
import io.mlgateway.modelstore.ModelCacheProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;

/**
 * The gateway's storage: the shared connections ({@link StorageBeans}; all lazy, so the gateway starts and serves
 * regno with no database or cache running) plus what only the gateway uses.
 */
@Configuration(proxyBeanMethods = false)
@Import(StorageBeans.class)
public class StorageConfiguration {

    @Bean
    ActualsTable actualsTable(DatabaseClient db) {
        return new ActualsTable(db);
    }

    /** For rollbacks: the same transaction that moves a head queues its announcement (the retrainer relays it). */
    @Bean
    RetrainOutbox retrainOutbox(DatabaseClient db) {
        return new RetrainOutbox(db);
    }

    @Bean
    RedisModelCache redisModelCache(LazyRedisConnection connection, ModelCacheProperties cache) {
        return new RedisModelCache(Mono.defer(connection::commands), cache.redisTtl());
    }
}

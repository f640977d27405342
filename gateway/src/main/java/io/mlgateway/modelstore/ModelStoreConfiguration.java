package io.mlgateway.modelstore;

import io.mlgateway.shared.modelstore.RedisModelCache;
import io.mlgateway.shared.storage.LazyRedisConnection;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import reactor.core.publisher.Mono;

/** The Redis tier of the model store, with the gateway's TTL (the retrainer only deletes keys). */
@Configuration(proxyBeanMethods = false)
class ModelStoreConfiguration {

    @Bean
    RedisModelCache redisModelCache(LazyRedisConnection connection, ModelCacheProperties cache) {
        return new RedisModelCache(Mono.defer(connection::commands), cache.redisTtl());
    }
}

package io.mlgateway.shared.storage;

import static io.mlgateway.shared.config.PropertyChecks.notBlank;
import static io.mlgateway.shared.config.PropertyChecks.positive;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Redis, bound to Spring's usual keys (SPRING_DATA_REDIS_URL). Not Spring Boot's own Redis auto-configuration,
 * which these apps do not use: only the keys are shared.
 *
 * @param url     Redis URL; the default is the local services' Redis (deploy/local/services.sh)
 * @param timeout a command slower than this counts as a Redis failure; the model is then read from PostgreSQL
 */
@ConfigurationProperties(RedisConnectionProperties.PREFIX)
public record RedisConnectionProperties(
        @DefaultValue("redis://127.0.0.1:6379") String url,
        @DefaultValue("250ms") Duration timeout) {

    public static final String PREFIX = "spring.data.redis";

    public RedisConnectionProperties {
        notBlank(PREFIX + ".url", url);
        positive(PREFIX + ".timeout", timeout);
    }
}

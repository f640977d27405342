package io.mlgateway.shared.storage;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Redis, bound to Spring's usual key (SPRING_DATA_REDIS_URL).
 *
 * @param timeout a command slower than this counts as a Redis failure; the model is then read from PostgreSQL
 */
@ConfigurationProperties("spring.data.redis")
public record RedisConnectionProperties(String url, Duration timeout) {

    public RedisConnectionProperties {
        if (url == null || url.isBlank()) {
            url = "redis://127.0.0.1:6379";
        }
        if (timeout == null) {
            timeout = Duration.ofMillis(250);
        }
    }
}

package io.mlgateway.shared.storage;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * PostgreSQL over R2DBC, bound to Spring's usual keys (SPRING_R2DBC_URL, SPRING_R2DBC_USERNAME,
 * SPRING_R2DBC_PASSWORD). The password comes from the environment; only the local-dev profile sets one.
 */
@ConfigurationProperties("spring.r2dbc")
public record DatabaseProperties(String url, String username, String password, Pool pool) {

    public DatabaseProperties {
        if (url == null || url.isBlank()) {
            url = "r2dbc:postgresql://127.0.0.1:5432/inference";
        }
        if (username == null) {
            username = "inference";
        }
        if (password == null) {
            password = "";
        }
        if (pool == null) {
            pool = new Pool(0, 0, null);
        }
    }

    /**
     * @param maxSize        connections at most
     * @param initialSize    connections opened eagerly (0: none, so start-up never waits for the database)
     * @param maxAcquireTime how long a query waits for a connection before failing
     */
    public record Pool(int maxSize, int initialSize, Duration maxAcquireTime) {

        public Pool {
            if (maxSize <= 0) {
                maxSize = 16;
            }
            if (maxAcquireTime == null) {
                maxAcquireTime = Duration.ofSeconds(2);
            }
        }
    }
}

package io.mlgateway.shared.storage;

import static io.mlgateway.shared.config.PropertyChecks.atLeast;
import static io.mlgateway.shared.config.PropertyChecks.between;
import static io.mlgateway.shared.config.PropertyChecks.notBlank;
import static io.mlgateway.shared.config.PropertyChecks.positive;
import static io.mlgateway.shared.config.PropertyChecks.required;

import io.mlgateway.shared.config.PropertyDefaults;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * PostgreSQL over R2DBC, bound to Spring's usual keys (SPRING_R2DBC_URL, SPRING_R2DBC_USERNAME,
 * SPRING_R2DBC_PASSWORD). The defaults are the local services of deploy/local/services.sh. The password comes from
 * the environment; only the 'local' profile sets one.
 *
 * @param url      R2DBC URL of the database holding the models, the predictions and the actuals
 * @param username database user
 * @param password database password (SPRING_R2DBC_PASSWORD); empty by default, set by the 'local' profile
 * @param pool     connection pool sizing
 */
@ConfigurationProperties(DatabaseProperties.PREFIX)
public record DatabaseProperties(
        @DefaultValue("r2dbc:postgresql://127.0.0.1:5432/inference") String url,
        @DefaultValue("inference") String username,
        @DefaultValue("") String password,
        @DefaultValue Pool pool) {

    public static final String PREFIX = "spring.r2dbc";

    public DatabaseProperties {
        notBlank(PREFIX + ".url", url);
        notBlank(PREFIX + ".username", username);
        required(PREFIX + ".password", password);
        required(PREFIX + ".pool", pool);
    }

    /**
     * @param maxSize        connections at most
     * @param initialSize    connections opened eagerly (0: none, so start-up never waits for the database)
     * @param maxAcquireTime how long a query waits for a connection before failing
     */
    public record Pool(
            @DefaultValue("16") int maxSize,
            @DefaultValue("0") int initialSize,
            @DefaultValue("2s") Duration maxAcquireTime) {

        public Pool {
            atLeast(PREFIX + ".pool.max-size", maxSize, 1);
            between(PREFIX + ".pool.initial-size", initialSize, 0, maxSize);
            positive(PREFIX + ".pool.max-acquire-time", maxAcquireTime);
        }

        /** Every value at its default. */
        public static Pool defaults() {
            return PropertyDefaults.of(Pool.class);
        }
    }
}

package io.mlgateway.modelstore;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * @param maxEntries           users whose booster stays deserialized in this instance, at most
 * @param maxBytes             serialized size of those boosters, at most (native memory is a small multiple)
 * @param redisTtl             how long a model stays in Redis after it was last loaded from PostgreSQL
 * @param versionCheckInterval how often cached versions are compared with the registry: the bound on staleness
 *                             when a model-retrained message is lost or Kafka is unreachable
 */
@ConfigurationProperties("gateway.model-cache")
public record ModelCacheProperties(int maxEntries, DataSize maxBytes, Duration redisTtl, Duration versionCheckInterval) {

    public ModelCacheProperties {
        if (maxEntries <= 0) {
            maxEntries = 1000;
        }
        if (maxBytes == null) {
            maxBytes = DataSize.ofMegabytes(512);
        }
        if (redisTtl == null) {
            redisTtl = Duration.ofHours(1);
        }
        if (versionCheckInterval == null) {
            versionCheckInterval = Duration.ofSeconds(30);
        }
    }
}

package io.mlgateway.modelstore;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The rentals model store of one gateway instance.
 *
 * @param maxBytes             heap the users' models may occupy, counted by their real footprint: a user's own trees
 *                             (a base model shared by many users is counted once, apart, in
 *                             {@code gateway.modelstore.memory.bytes{part="bases"}}). Past it, the least useful
 *                             users are dropped and read again from Redis when they return
 * @param idleExpiry           a user not served for this long leaves memory
 * @param maxConcurrentReads   registry queries for users' models in flight at once; users missed meanwhile wait and
 *                             are read together in the next query (never refused: a cold burst reads in batches)
 * @param readBatchSize        users per registry query at most
 * @param redisTtl             how long a model stays in Redis after it was last loaded from PostgreSQL
 * @param versionCheckInterval how often cached versions are compared with the registry: the bound on staleness
 *                             when a model-retrained message is lost or Kafka is unreachable
 * @param warmUp               loading recently active users' models before the instance reports ready
 */
@ConfigurationProperties("gateway.model-cache")
public record ModelCacheProperties(
        @DefaultValue("256MB") DataSize maxBytes,
        @DefaultValue("6h") Duration idleExpiry,
        @DefaultValue("4") int maxConcurrentReads,
        @DefaultValue("500") int readBatchSize,
        @DefaultValue("1h") Duration redisTtl,
        @DefaultValue("30s") Duration versionCheckInterval,
        @DefaultValue WarmUp warmUp) {

    public ModelCacheProperties {
        require(maxBytes != null && maxBytes.toBytes() > 0, "max-bytes", "must be positive");
        require(positive(idleExpiry), "idle-expiry", "must be positive");
        require(maxConcurrentReads > 0, "max-concurrent-reads", "must be at least 1");
        require(readBatchSize > 0, "read-batch-size", "must be at least 1");
        require(positive(redisTtl), "redis-ttl", "must be positive");
        require(positive(versionCheckInterval), "version-check-interval", "must be positive");
        require(warmUp != null, "warm-up", "is required");
    }

    /**
     * Recently active users: every instance publishes the users it served lately to Redis (a sorted set by last
     * use); a starting instance loads up to {@code users} of those active within {@code window} before it reports
     * ready, waiting at most {@code timeout}.
     *
     * @param users           most users loaded at start (0: no warm-up)
     * @param window          users served within this are "recently active"
     * @param timeout         readiness waits this long at most for the warm-up; then it reports ready anyway
     * @param publishInterval how often an instance publishes the users it served
     */
    public record WarmUp(
            @DefaultValue("10000") int users,
            @DefaultValue("15m") Duration window,
            @DefaultValue("30s") Duration timeout,
            @DefaultValue("10s") Duration publishInterval) {

        public WarmUp {
            require(users >= 0, "warm-up.users", "must not be negative");
            require(positive(window), "warm-up.window", "must be positive");
            require(timeout != null && !timeout.isNegative(), "warm-up.timeout", "must not be negative");
            require(positive(publishInterval), "warm-up.publish-interval", "must be positive");
        }
    }

    private static boolean positive(Duration d) {
        return d != null && !d.isNegative() && !d.isZero();
    }

    private static void require(boolean valid, String key, String rule) {
        if (!valid) {
            throw new IllegalArgumentException("gateway.model-cache." + key + " " + rule);
        }
    }
}

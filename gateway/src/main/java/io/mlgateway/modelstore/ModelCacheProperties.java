package io.mlgateway.modelstore;

import static io.mlgateway.shared.config.PropertyChecks.atLeast;
import static io.mlgateway.shared.config.PropertyChecks.notNegative;
import static io.mlgateway.shared.config.PropertyChecks.positive;
import static io.mlgateway.shared.config.PropertyChecks.required;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The rentals model store of one gateway instance.
 *
 * @param maxBytes             heap the users' models may occupy, counted by their real footprint: a user's own trees
 *                             in their compact form plus its entry (a policy-sized user ~29 KB; a base model shared
 *                             by many users is counted once, apart, in the metric
 *                             gateway.modelstore.memory.bytes{part="bases"}). Past it, the least useful users are
 *                             dropped and read again from Redis when they return. Default: half the heap (-Xmx),
 *                             which leaves room for the rest of the gateway and for the models that loads and
 *                             requests in flight hold beyond the tier (docs/MODELS.md, "Memory tier")
 * @param idleExpiry           a user not served for this long leaves memory
 * @param maxConcurrentReads   registry queries for users' models in flight at once; users missed meanwhile wait and
 *                             are read together in the next query (never refused: a cold burst reads in batches)
 * @param readBatchSize        users per registry query at most; with max-concurrent-reads, the loads in flight at
 *                             once (each holds a model's stored bytes and its decoded forms until it is done)
 * @param redisTtl             how long a model (model:{user_id}) stays in Redis after it was last loaded
 *                             from PostgreSQL
 * @param versionCheckInterval how often cached versions are compared with the registry: the bound on staleness
 *                             when a model-retrained message is lost or Kafka is unreachable
 * @param warmUp               loading recently active users' models before the instance reports ready
 */
@ConfigurationProperties(ModelCacheProperties.PREFIX)
public record ModelCacheProperties(
        DataSize maxBytes,
        @DefaultValue("6h") Duration idleExpiry,
        @DefaultValue("4") int maxConcurrentReads,
        @DefaultValue("64") int readBatchSize,
        @DefaultValue("1h") Duration redisTtl,
        @DefaultValue("30s") Duration versionCheckInterval,
        @DefaultValue WarmUp warmUp) {

    public static final String PREFIX = "gateway.model-cache";

    public ModelCacheProperties {
        maxBytes = maxBytes != null ? maxBytes : halfTheHeap();
        positive(PREFIX + ".max-bytes", maxBytes);
        positive(PREFIX + ".idle-expiry", idleExpiry);
        atLeast(PREFIX + ".max-concurrent-reads", maxConcurrentReads, 1);
        atLeast(PREFIX + ".read-batch-size", readBatchSize, 1);
        positive(PREFIX + ".redis-ttl", redisTtl);
        positive(PREFIX + ".version-check-interval", versionCheckInterval);
        required(PREFIX + ".warm-up", warmUp);
    }

    /** The default of max-bytes: half of what the heap may grow to. */
    static DataSize halfTheHeap() {
        return DataSize.ofBytes(Runtime.getRuntime().maxMemory() / 2);
    }

    /**
     * Recently active users: every instance publishes the users it served lately to Redis (a sorted set by last
     * use); a starting instance loads up to {@code users} of those active within {@code window} before it reports
     * ready, waiting at most {@code timeout}, and never more than fill 90% of max-bytes.
     *
     * @param users           most users loaded at start (0: no warm-up)
     * @param window          users served within this are "recently active"
     * @param timeout         readiness waits this long at most for the warm-up; then it reports ready anyway
     * @param publishInterval how often an instance publishes the users it served
     * @param instance        this instance's name where the balancer routes by user (its HAProxy server name, a
     *                        StatefulSet pod's name): the instance publishes to and warms from a set of its own, so a
     *                        restarted instance loads the users the balancer sends it, not every user of the fleet.
     *                        Empty (balancing without affinity): one set for the whole fleet
     */
    public record WarmUp(
            @DefaultValue("10000") int users,
            @DefaultValue("15m") Duration window,
            @DefaultValue("30s") Duration timeout,
            @DefaultValue("10s") Duration publishInterval,
            @DefaultValue("") String instance) {

        public WarmUp {
            atLeast(PREFIX + ".warm-up.users", users, 0);
            positive(PREFIX + ".warm-up.window", window);
            notNegative(PREFIX + ".warm-up.timeout", timeout);
            positive(PREFIX + ".warm-up.publish-interval", publishInterval);
            instance = instance == null ? "" : instance;
            if (!instance.isEmpty() && !instance.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
                throw new IllegalArgumentException(PREFIX + ".warm-up.instance must be 1-64 letters, digits, '.', '_'"
                        + " or '-', starting with a letter or digit, was '" + instance + "'");
            }
        }
    }
}

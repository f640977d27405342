package io.mlgateway.retrain;

import static io.mlgateway.shared.config.PropertyChecks.atLeast;
import static io.mlgateway.shared.config.PropertyChecks.check;
import static io.mlgateway.shared.config.PropertyChecks.positive;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How the retrainer maintains the inference log's day partitions (migration V5): creates the coming days', drops
 * the days past the retention. A day is dropped only when no row in it is still needed for training (its actuals
 * all used by a model, none among its user's latest {@code retrainer.window}), so the retention is a minimum age,
 * not a promise to delete.
 *
 * @param retention  days whose predictions are all older than this may be dropped, with their actuals (at least a
 *                   day)
 * @param daysAhead  partitions kept ready for the coming days (writes to a day without one go to the default
 *                   partition: kept, never dropped)
 * @param interval   how often the partitions are maintained (the first time at start)
 */
@ConfigurationProperties(InferenceLogRetentionProperties.PREFIX)
public record InferenceLogRetentionProperties(
        @DefaultValue("30d") Duration retention,
        @DefaultValue("7") int daysAhead,
        @DefaultValue("1h") Duration interval) {

    public static final String PREFIX = "retrainer.inference-log";

    public InferenceLogRetentionProperties {
        check(retention != null && retention.compareTo(Duration.ofDays(1)) >= 0, PREFIX + ".retention",
                "must be at least 1d, was " + retention);
        atLeast(PREFIX + ".days-ahead", daysAhead, 1);
        positive(PREFIX + ".interval", interval);
    }
}

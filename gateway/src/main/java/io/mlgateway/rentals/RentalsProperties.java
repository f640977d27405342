package io.mlgateway.rentals;

import static io.mlgateway.shared.config.PropertyChecks.atLeast;
import static io.mlgateway.shared.config.PropertyChecks.notNegative;
import static io.mlgateway.shared.config.PropertyChecks.positive;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param maxBatchSize       largest "instances" list per batch prediction
 * @param maxActuals         largest "actuals" list per call
 * @param pendingLogTimeout  how long an actual waits for its prediction to leave the inference-log buffer; also how
 *                           long an actual whose prediction is not found, but is young, is tried again
 * @param unknownIdGrace     an actual whose request id (UUIDv7) was issued less than this long ago and is not in the
 *                           inference log yet may have a prediction still buffered by another instance: it is tried
 *                           again for pending-log-timeout, then the call answers 503 (retry), never
 *                           unknown_request_id. Older ids, and ids that are not UUIDv7, are answered as found.
 * @param startupRetry       pause between attempts to migrate the schema and bootstrap the base model, repeated
 *                           until PostgreSQL answers
 */
@ConfigurationProperties(RentalsProperties.PREFIX)
public record RentalsProperties(
        @DefaultValue("256") int maxBatchSize,
        @DefaultValue("1000") int maxActuals,
        @DefaultValue("5s") Duration pendingLogTimeout,
        @DefaultValue("5s") Duration startupRetry,
        @DefaultValue("10m") Duration unknownIdGrace) {

    public static final String PREFIX = "gateway.rentals";

    public RentalsProperties {
        atLeast(PREFIX + ".max-batch-size", maxBatchSize, 1);
        atLeast(PREFIX + ".max-actuals", maxActuals, 1);
        positive(PREFIX + ".pending-log-timeout", pendingLogTimeout);
        positive(PREFIX + ".startup-retry", startupRetry);
        notNegative(PREFIX + ".unknown-id-grace", unknownIdGrace);
    }
}

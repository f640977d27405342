package io.mlgateway.rentals;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * @param maxBatchSize       largest {@code instances} list per batch prediction
 * @param maxActuals         largest {@code actuals} list per call
 * @param pendingLogTimeout  how long an actual waits for its prediction to leave the inference-log buffer
 * @param startupRetry       pause between attempts to migrate the schema and bootstrap the base model
 */
@ConfigurationProperties("gateway.rentals")
public record RentalsProperties(int maxBatchSize, int maxActuals, Duration pendingLogTimeout, Duration startupRetry) {

    public RentalsProperties {
        if (maxBatchSize <= 0) {
            maxBatchSize = 256;
        }
        if (maxActuals <= 0) {
            maxActuals = 1000;
        }
        if (pendingLogTimeout == null) {
            pendingLogTimeout = Duration.ofSeconds(5);
        }
        if (startupRetry == null) {
            startupRetry = Duration.ofSeconds(5);
        }
    }
}

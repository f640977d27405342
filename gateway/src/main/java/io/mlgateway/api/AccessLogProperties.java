package io.mlgateway.api;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Access-log volume ({@link AccessLog}).
 *
 * @param sampleRate    share of ordinary requests logged, 0 to 1 (default 0.01)
 * @param slowThreshold requests slower than this are always logged (default 250ms)
 */
@ConfigurationProperties("gateway.access-log")
public record AccessLogProperties(Double sampleRate, Duration slowThreshold) {

    public AccessLogProperties {
        sampleRate = sampleRate == null ? 0.01 : sampleRate;
        if (sampleRate < 0 || sampleRate > 1) {
            throw new IllegalArgumentException("gateway.access-log.sample-rate must be between 0 and 1");
        }
        slowThreshold = slowThreshold == null ? Duration.ofMillis(250) : slowThreshold;
    }
}

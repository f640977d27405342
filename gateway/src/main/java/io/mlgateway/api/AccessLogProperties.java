package io.mlgateway.api;

import static io.mlgateway.shared.config.PropertyChecks.between;
import static io.mlgateway.shared.config.PropertyChecks.notNegative;
import static io.mlgateway.shared.config.PropertyChecks.required;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Access-log volume ({@link AccessLog}): logger 'access', one JSON line per request (docs/LOGQL.md).
 *
 * @param sampleRate    share of ordinary requests logged, 0 to 1; 5xx responses (but 503 shedding) and slow
 *                      requests are always logged
 * @param slowThreshold requests slower than this are always logged
 */
@ConfigurationProperties(AccessLogProperties.PREFIX)
public record AccessLogProperties(
        @DefaultValue("0.01") Double sampleRate,
        @DefaultValue("250ms") Duration slowThreshold) {

    public static final String PREFIX = "gateway.access-log";

    public AccessLogProperties {
        required(PREFIX + ".sample-rate", sampleRate);
        between(PREFIX + ".sample-rate", sampleRate, 0, 1);
        notNegative(PREFIX + ".slow-threshold", slowThreshold);
    }
}

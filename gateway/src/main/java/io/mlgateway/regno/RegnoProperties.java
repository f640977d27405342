package io.mlgateway.regno;

import static io.mlgateway.shared.config.PropertyChecks.atLeast;
import static io.mlgateway.shared.config.PropertyChecks.required;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.core.io.Resource;

/**
 * @param model        the CatBoost model file (classpath: or file:); the customer's model ships in the jar
 * @param maxBatchSize largest "instances" list accepted by the batch endpoint; beyond it 400
 */
@ConfigurationProperties(RegnoProperties.PREFIX)
public record RegnoProperties(
        @DefaultValue("classpath:models/regno/micromodel.cbm") Resource model,
        @DefaultValue("256") int maxBatchSize) {

    public static final String PREFIX = "gateway.regno";

    public RegnoProperties {
        required(PREFIX + ".model", model);
        atLeast(PREFIX + ".max-batch-size", maxBatchSize, 1);
    }
}

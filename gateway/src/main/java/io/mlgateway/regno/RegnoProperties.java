package io.mlgateway.regno;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.core.io.DefaultResourceLoader;
import org.springframework.core.io.Resource;

/**
 * @param model        the CatBoost model file (classpath: or file:); the customer's model ships in the jar
 * @param maxBatchSize largest {@code instances} list accepted by the batch endpoint; beyond it 400
 */
@ConfigurationProperties("gateway.regno")
public record RegnoProperties(Resource model, int maxBatchSize) {

    public RegnoProperties {
        if (model == null) {
            model = new DefaultResourceLoader().getResource("classpath:models/regno/micromodel.cbm");
        }
        if (maxBatchSize <= 0) {
            maxBatchSize = 256;
        }
    }
}

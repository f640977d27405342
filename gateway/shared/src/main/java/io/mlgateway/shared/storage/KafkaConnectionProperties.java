package io.mlgateway.shared.storage;

import static io.mlgateway.shared.config.PropertyChecks.notBlank;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Kafka, bound to Spring's usual key (SPRING_KAFKA_BOOTSTRAP_SERVERS). Not Spring Boot's own Kafka
 * auto-configuration, which these apps do not use: only the key is shared.
 *
 * @param bootstrapServers comma-separated host:port list; the default is the local services' broker
 *                         (deploy/local/services.sh)
 */
@ConfigurationProperties(KafkaConnectionProperties.PREFIX)
public record KafkaConnectionProperties(@DefaultValue("127.0.0.1:9092") String bootstrapServers) {

    public static final String PREFIX = "spring.kafka";

    public KafkaConnectionProperties {
        notBlank(PREFIX + ".bootstrap-servers", bootstrapServers);
    }
}

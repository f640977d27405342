package io.mlgateway.shared.storage;

import org.springframework.boot.context.properties.ConfigurationProperties;

/** Kafka, bound to Spring's usual key (SPRING_KAFKA_BOOTSTRAP_SERVERS). */
@ConfigurationProperties("spring.kafka")
public record KafkaConnectionProperties(String bootstrapServers) {

    public KafkaConnectionProperties {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            bootstrapServers = "127.0.0.1:9092";
        }
    }
}

package io.mlgateway.modelstore;

import io.mlgateway.shared.notify.ModelRetrainedMessage;
import io.mlgateway.shared.storage.KafkaConnectionProperties;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.mlgateway.shared.lifecycle.SubscriptionLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.kafka.receiver.KafkaReceiver;
import reactor.kafka.receiver.ReceiverOptions;
import reactor.kafka.receiver.ReceiverRecord;
import reactor.util.retry.Retry;

/**
 * Hot swap: consumes {@value ModelRetrainedMessage#TOPIC} and has the swapper swap in the retrained user's new
 * version (loaded in the background while the old one keeps serving). Each instance uses a consumer group of its own, so every instance sees every
 * message; it starts at the latest offset (older swaps are covered by the periodic version check) and commits
 * nothing. Duplicates are harmless: a swap to a version already served changes nothing.
 */
@Component
public class ModelSwapListener extends SubscriptionLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ModelSwapListener.class);

    private final ModelSwapper swapper;
    private final KafkaConnectionProperties kafka;
    private final String groupId = "gateway-" + UUID.randomUUID();
    private volatile boolean assigned;

    public ModelSwapListener(ModelSwapper swapper, KafkaConnectionProperties kafka) {
        this.swapper = swapper;
        this.kafka = kafka;
    }

    @Override
    protected Disposable subscribe() {
        ReceiverOptions<String, byte[]> options = ReceiverOptions.<String, byte[]>create(Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                        ConsumerConfig.GROUP_ID_CONFIG, groupId,
                        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest",
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))
                .subscription(List.of(ModelRetrainedMessage.TOPIC))
                .addAssignListener(partitions -> assigned = !partitions.isEmpty())
                .addRevokeListener(partitions -> assigned = false);
        return KafkaReceiver.create(options)
                .receive()
                .doOnNext(this::apply)
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofSeconds(1)).maxBackoff(Duration.ofSeconds(30))
                        .doBeforeRetry(s -> log.warn("model-retrained consumer failed, retrying: {}", s.failure().toString())))
                .subscribe();
    }

    private void apply(ReceiverRecord<String, byte[]> record) {
        ModelRetrainedMessage message;
        try {
            message = ModelRetrainedMessage.fromJson(record.value());
        } catch (RuntimeException e) {
            log.warn("ignoring malformed model-retrained message at offset {}: {}", record.offset(), e.toString());
            return;
        }
        if (message.userId() == null || !message.changesModel()) {
            return;
        }
        swapper.swap(message.userId(), message.version(), "kafka");
        log.atInfo().addKeyValue("event", "model.swap").addKeyValue("user_id", message.userId())
                .addKeyValue("version", message.version()).addKeyValue("status", message.status())
                .log("model swap announced");
    }

    /** True once the consumer owns the topic's partitions (messages published from then on are seen). */
    public boolean isAssigned() {
        return assigned;
    }
}

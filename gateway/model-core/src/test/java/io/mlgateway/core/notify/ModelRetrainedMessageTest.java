package io.mlgateway.core.notify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ModelRetrainedMessageTest {

    @Test
    void wireShapeIsUserIdStatusVersion() {
        String json = new String(ModelRetrainedMessage.success("alice", 7).toJson(), StandardCharsets.UTF_8);
        assertThat(json).isEqualTo("{\"user_id\":\"alice\",\"status\":\"success\",\"version\":7}");
        String failed = new String(ModelRetrainedMessage.failed("bob", "validation").toJson(), StandardCharsets.UTF_8);
        assertThat(failed).isEqualTo("{\"user_id\":\"bob\",\"status\":\"failed\",\"reason\":\"validation\"}");
        assertThat(ModelRetrainedMessage.TOPIC).isEqualTo("model-retrained");
    }

    @Test
    void readsItsOwnAndToleratesExtraFields() {
        ModelRetrainedMessage m = ModelRetrainedMessage.fromJson(
                "{\"user_id\":\"alice\",\"status\":\"success\",\"version\":7,\"extra\":1}".getBytes(StandardCharsets.UTF_8));
        assertThat(m).isEqualTo(ModelRetrainedMessage.success("alice", 7));
        assertThat(m.changesModel()).isTrue();
    }
}

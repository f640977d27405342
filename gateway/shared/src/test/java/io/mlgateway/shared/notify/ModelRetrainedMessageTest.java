package io.mlgateway.shared.notify;

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

    /** Only a new or restored version changes what gateways serve; a rejected challenger or a failure does not. */
    @Test
    void onlySuccessRollbackAndPromotionChangeTheServedModel() {
        assertThat(new ModelRetrainedMessage("a", ModelRetrainedMessage.SUCCESS, 3L, null).changesModel()).isTrue();
        assertThat(new ModelRetrainedMessage("a", ModelRetrainedMessage.ROLLED_BACK, 4L, "why").changesModel()).isTrue();
        assertThat(new ModelRetrainedMessage("a", ModelRetrainedMessage.PROMOTED, 6L, "why").changesModel()).isTrue();
        assertThat(new ModelRetrainedMessage("a", ModelRetrainedMessage.REJECTED, 5L, "lost").changesModel()).isFalse();
        assertThat(ModelRetrainedMessage.failed("a", "boom").changesModel()).isFalse();
        assertThat(new String(new ModelRetrainedMessage("a", ModelRetrainedMessage.REJECTED, 5L, "lost").toJson(),
                StandardCharsets.UTF_8)).isEqualTo("{\"user_id\":\"a\",\"status\":\"rejected\",\"version\":5,"
                        + "\"reason\":\"lost\"}");
    }
}

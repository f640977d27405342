package io.mlgateway.core.notify;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import tools.jackson.databind.json.JsonMapper;

/**
 * The message on Kafka topic {@value #TOPIC}, keyed by user id: a user's model was retrained. Consumers must
 * tolerate duplicates and unknown extra fields.
 *
 * @param status  "success" or "failed"
 * @param version the new model version on success
 * @param reason  why it failed, on failure
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelRetrainedMessage(
        @JsonProperty("user_id") String userId,
        @JsonProperty("status") String status,
        @JsonProperty("version") Long version,
        @JsonProperty("reason") String reason) {

    public static final String TOPIC = "model-retrained";
    public static final String SUCCESS = "success";
    public static final String FAILED = "failed";

    private static final JsonMapper JSON = JsonMapper.builder()
            .disable(tools.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    public static ModelRetrainedMessage success(String userId, long version) {
        return new ModelRetrainedMessage(userId, SUCCESS, version, null);
    }

    public static ModelRetrainedMessage failed(String userId, String reason) {
        return new ModelRetrainedMessage(userId, FAILED, null, reason);
    }

    public boolean succeeded() {
        return SUCCESS.equals(status);
    }

    public byte[] toJson() {
        return JSON.writeValueAsBytes(this);
    }

    public static ModelRetrainedMessage fromJson(byte[] json) {
        return JSON.readValue(json, ModelRetrainedMessage.class);
    }
}

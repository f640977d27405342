package io.mlgateway.shared.notify;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import tools.jackson.databind.json.JsonMapper;

/**
 * The message on Kafka topic {@value #TOPIC}, keyed by user id: a user's model was retrained. Consumers must
 * tolerate duplicates and unknown extra fields.
 *
 * @param status  {@value #SUCCESS}: a new version is served; {@value #ROLLED_BACK}: an earlier version is served
 *                again; {@value #PROMOTED}: a challenger the validation had rejected is served (an operator's
 *                decision); {@value #REJECTED}: a challenger was stored but lost to the champion (nothing changes);
 *                {@value #FAILED}: no model could be fitted
 * @param version the version now served ({@value #SUCCESS}, {@value #ROLLED_BACK}, {@value #PROMOTED}), or the
 *                rejected one
 * @param reason  why, for {@value #REJECTED}, {@value #FAILED}, {@value #ROLLED_BACK} and {@value #PROMOTED}
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
    public static final String REJECTED = "rejected";
    public static final String ROLLED_BACK = "rolled_back";
    public static final String PROMOTED = "promoted";

    private static final JsonMapper JSON = JsonMapper.builder()
            .disable(tools.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    public static ModelRetrainedMessage success(String userId, long version) {
        return new ModelRetrainedMessage(userId, SUCCESS, version, null);
    }

    public static ModelRetrainedMessage failed(String userId, String reason) {
        return new ModelRetrainedMessage(userId, FAILED, null, reason);
    }

    /** Whether the user's served model changed: gateways must swap it in (and the Redis copy is stale). */
    public boolean changesModel() {
        return changesModel(status);
    }

    public static boolean changesModel(String status) {
        return SUCCESS.equals(status) || ROLLED_BACK.equals(status) || PROMOTED.equals(status);
    }

    public byte[] toJson() {
        return JSON.writeValueAsBytes(this);
    }

    public static ModelRetrainedMessage fromJson(byte[] json) {
        return JSON.readValue(json, ModelRetrainedMessage.class);
    }
}

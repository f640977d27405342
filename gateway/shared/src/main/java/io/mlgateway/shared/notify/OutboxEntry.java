package io.mlgateway.shared.notify;


/** An announcement waiting to be sent (or re-sent after a crash). */
public record OutboxEntry(long id, String userId, String status, Long version, String reason) {

    public ModelRetrainedMessage message() {
        return new ModelRetrainedMessage(userId, status, version, reason);
    }

    /** Whether the announced change replaces the user's served model (so its Redis copy must go). */
    public boolean changesModel() {
        return ModelRetrainedMessage.changesModel(status);
    }
}

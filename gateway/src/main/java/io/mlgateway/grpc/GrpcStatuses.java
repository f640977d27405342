package io.mlgateway.grpc;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.mlgateway.errors.ApiException;
import io.mlgateway.errors.RateLimitedException;
import io.mlgateway.errors.UnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every failure of a call as the gRPC status a client acts on, with the message the REST half answers in its error
 * envelope: bad input INVALID_ARGUMENT, an unknown model or version NOT_FOUND, a missing or wrong key
 * UNAUTHENTICATED, a key over its rate RESOURCE_EXHAUSTED and overload or an outage UNAVAILABLE (both with the
 * {@code retry-after} seconds in the trailers, as REST's Retry-After), anything unexpected INTERNAL with no details
 * (they go to the log). The field a 400 names travels in the {@code x-error-field} trailer.
 */
final class GrpcStatuses {

    static final Metadata.Key<String> RETRY_AFTER = Metadata.Key.of("retry-after", Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<String> FIELD = Metadata.Key.of("x-error-field", Metadata.ASCII_STRING_MARSHALLER);

    private static final Logger log = LoggerFactory.getLogger(GrpcStatuses.class);

    private GrpcStatuses() {
    }

    static StatusRuntimeException of(Throwable error, long defaultRetryAfterSeconds, String method) {
        Metadata trailers = new Metadata();
        Status status;
        if (error instanceof StatusRuntimeException already) {
            return already;
        } else if (error instanceof ApiException api) {
            status = code(api.status().value()).withDescription(api.getMessage());
            if (api.field() != null) {
                trailers.put(FIELD, api.field());
            }
        } else if (error instanceof UnavailableException unavailable) {
            status = Status.UNAVAILABLE.withDescription(unavailable.getMessage());
            long retryAfter = unavailable.retryAfterSeconds() >= 0 ? unavailable.retryAfterSeconds()
                    : defaultRetryAfterSeconds;
            trailers.put(RETRY_AFTER, Long.toString(retryAfter));
        } else if (error instanceof RateLimitedException limited) {
            status = Status.RESOURCE_EXHAUSTED.withDescription(limited.getMessage());
            trailers.put(RETRY_AFTER, Long.toString(limited.retryAfterSeconds()));
        } else {
            status = Status.INTERNAL.withDescription("internal error");
            log.atError().setCause(error).addKeyValue("grpc_method", method).log("unhandled error on {}", method);
        }
        return status.asRuntimeException(trailers);
    }

    /** The code for an HTTP status the data plane raised (gRPC's own HTTP mapping, read the other way). */
    static Status code(int httpStatus) {
        return switch (httpStatus) {
            case 400, 422 -> Status.INVALID_ARGUMENT;
            case 401 -> Status.UNAUTHENTICATED;
            case 403 -> Status.PERMISSION_DENIED;
            case 404 -> Status.NOT_FOUND;
            case 409 -> Status.FAILED_PRECONDITION;
            case 413, 429 -> Status.RESOURCE_EXHAUSTED;
            case 501 -> Status.UNIMPLEMENTED;
            case 503 -> Status.UNAVAILABLE;
            case 504 -> Status.DEADLINE_EXCEEDED;
            default -> httpStatus < 500 ? Status.FAILED_PRECONDITION : Status.INTERNAL;
        };
    }

}

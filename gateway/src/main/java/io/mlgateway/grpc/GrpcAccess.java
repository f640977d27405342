package io.mlgateway.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthGrpc;
import io.mlgateway.access.Admission;
import io.mlgateway.access.ApiKeys;
import io.mlgateway.grpc.v2.GRPCInferenceServiceGrpc;
import io.mlgateway.oip.UserRouting;
import java.util.Set;

/**
 * The key check of the REST half, on metadata: every call takes the client key in {@code x-api-key} but the
 * liveness and readiness calls (the protocol's and gRPC's health service), which probes make without one, as
 * {@code /v2/health/*} are open. Refusals answer the REST half's messages as gRPC statuses. Also carries the
 * {@code x-user-id} routing metadata into the call's context for the data plane's check.
 */
final class GrpcAccess implements ServerInterceptor {

    static final Metadata.Key<String> API_KEY = Metadata.Key.of(ApiKeys.CLIENT_HEADER, Metadata.ASCII_STRING_MARSHALLER);
    static final Metadata.Key<String> USER = Metadata.Key.of(UserRouting.HEADER, Metadata.ASCII_STRING_MARSHALLER);
    /** The {@code x-user-id} a call was routed by, null when it brought none. */
    static final Context.Key<String> ROUTED_AS = Context.key(UserRouting.HEADER);

    private static final Set<String> OPEN = Set.of(
            GRPCInferenceServiceGrpc.getServerLiveMethod().getFullMethodName(),
            GRPCInferenceServiceGrpc.getServerReadyMethod().getFullMethodName(),
            HealthGrpc.getCheckMethod().getFullMethodName(),
            HealthGrpc.getWatchMethod().getFullMethodName());

    private final ApiKeys keys;
    private final long retryAfterSeconds;

    GrpcAccess(ApiKeys keys, long retryAfterSeconds) {
        this.keys = keys;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        if (!OPEN.contains(method)) {
            Admission admission = keys.admit(headers.get(API_KEY), ApiKeys.Role.CLIENT);
            if (!admission.admitted()) {
                StatusRuntimeException refused = GrpcStatuses.of(admission.refusal(ApiKeys.CLIENT_HEADER),
                        retryAfterSeconds, method);
                call.close(refused.getStatus(), refused.getTrailers());
                return new ServerCall.Listener<>() {
                };
            }
        }
        String user = headers.get(USER);
        if (user == null) {
            return next.startCall(call, headers);
        }
        return Contexts.interceptCall(Context.current().withValue(ROUTED_AS, user), call, headers, next);
    }
}

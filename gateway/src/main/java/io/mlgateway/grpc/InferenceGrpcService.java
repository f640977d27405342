package io.mlgateway.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.mlgateway.errors.UnavailableException;
import io.mlgateway.grpc.v2.GRPCInferenceServiceGrpc;
import io.mlgateway.grpc.v2.ModelInferRequest;
import io.mlgateway.grpc.v2.ModelInferResponse;
import io.mlgateway.grpc.v2.ModelMetadataRequest;
import io.mlgateway.grpc.v2.ModelMetadataResponse;
import io.mlgateway.grpc.v2.ModelReadyRequest;
import io.mlgateway.grpc.v2.ModelReadyResponse;
import io.mlgateway.grpc.v2.ServerLiveRequest;
import io.mlgateway.grpc.v2.ServerLiveResponse;
import io.mlgateway.grpc.v2.ServerMetadataRequest;
import io.mlgateway.grpc.v2.ServerMetadataResponse;
import io.mlgateway.grpc.v2.ServerReadyRequest;
import io.mlgateway.grpc.v2.ServerReadyResponse;
import io.mlgateway.oip.DataPlane;
import io.mlgateway.oip.UserRouting;
import java.util.Optional;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;

/**
 * {@code inference.GRPCInferenceService}: each call read into the data plane's terms, answered by the same
 * {@link DataPlane} as the REST half (so the same validation, micro-batching, inference log and errors), and its
 * answer written back. Calls run on gRPC's transport threads only as far as reading the message and subscribing;
 * scoring runs on the bounded scoring scheduler, and a cancelled call cancels its pipeline.
 */
final class InferenceGrpcService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {

    private final DataPlane dataPlane;
    private final long retryAfterSeconds;

    InferenceGrpcService(DataPlane dataPlane, long retryAfterSeconds) {
        this.dataPlane = dataPlane;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    @Override
    public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> observer) {
        reply(Mono.fromSupplier(() -> ServerLiveResponse.newBuilder().setLive(dataPlane.live()).build()), observer,
                "ServerLive");
    }

    @Override
    public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> observer) {
        reply(Mono.fromSupplier(() -> ServerReadyResponse.newBuilder().setReady(dataPlane.ready()).build()), observer,
                "ServerReady");
    }

    /** Ready or not as the answer (REST answers 503 for not ready; here the message carries it). */
    @Override
    public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> observer) {
        reply(Mono.defer(() -> dataPlane.modelReady(request.getName(), version(request.getVersion())))
                .map(ready -> ready.ready())
                .onErrorResume(UnavailableException.class, e -> Mono.just(false))
                .map(ready -> ModelReadyResponse.newBuilder().setReady(ready).build()), observer, "ModelReady");
    }

    @Override
    public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> observer) {
        reply(Mono.fromSupplier(() -> GrpcResponses.server(dataPlane.serverMetadata())), observer, "ServerMetadata");
    }

    @Override
    public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> observer) {
        reply(Mono.defer(() -> dataPlane.metadata(request.getName(), version(request.getVersion())))
                .map(GrpcResponses::metadata), observer, "ModelMetadata");
    }

    @Override
    public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> observer) {
        Optional<String> routedAs = Optional.ofNullable(GrpcAccess.ROUTED_AS.get());
        boolean raw = GrpcRequests.raw(request);
        reply(Mono.fromCallable(() -> GrpcRequests.inference(request))
                .doOnNext(inference -> UserRouting.check(routedAs, inference))
                .flatMap(inference -> dataPlane.infer(request.getModelName(), version(request.getModelVersion()),
                        inference))
                .map(response -> GrpcResponses.infer(response, raw)), observer, "ModelInfer");
    }

    private static Optional<String> version(String version) {
        return version.isEmpty() ? Optional.empty() : Optional.of(version);
    }

    /** Subscribes the answer and writes it (or its status) to the call, unless the client has gone. */
    private <T> void reply(Mono<T> answer, StreamObserver<T> observer, String method) {
        ServerCallStreamObserver<T> call = (ServerCallStreamObserver<T>) observer;
        Disposable.Swap subscription = Disposables.swap();
        call.setOnCancelHandler(subscription::dispose);
        subscription.update(answer.subscribe(value -> {
            if (!call.isCancelled()) {
                call.onNext(value);
                call.onCompleted();
            }
        }, error -> {
            if (!call.isCancelled()) {
                call.onError(GrpcStatuses.of(error, retryAfterSeconds, DataPlane.GRPC_SERVICE + "/" + method));
            }
        }));
    }
}

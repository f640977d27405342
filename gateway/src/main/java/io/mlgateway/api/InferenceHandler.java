package io.mlgateway.api;

import io.mlgateway.errors.ApiException;
import io.mlgateway.errors.UnavailableException;
import io.mlgateway.oip.DataPlane;
import io.mlgateway.oip.InferenceRequest;
import io.mlgateway.oip.InferenceRequestReader;
import io.mlgateway.oip.InferenceResponse;
import io.mlgateway.oip.ModelCard;
import io.mlgateway.oip.ModelMetadata;
import java.util.List;
import java.util.Map;
import io.mlgateway.rentals.RentalsInference;
import java.util.Optional;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * The Open Inference Protocol endpoints (and {@code GET /v1/models}, the same catalogue in v1's shape): read the
 * path and body, ask the data plane.
 */
@Component
public class InferenceHandler {

    static final String MODEL = "model";
    static final String VERSION = "version";

    private final DataPlane dataPlane;
    private final InferenceRequestReader reader;

    public InferenceHandler(DataPlane dataPlane, InferenceRequestReader reader) {
        this.dataPlane = dataPlane;
        this.reader = reader;
    }

    Mono<Map<String, Boolean>> live(ApiRequest request) {
        return Mono.just(Map.of("live", dataPlane.live()));
    }

    /** 200 when every model can score, else 503: what a readiness probe reads. */
    Mono<Map<String, Boolean>> ready(ApiRequest request) {
        return dataPlane.ready() ? Mono.just(Map.of("ready", true))
                : Mono.error(new UnavailableException("not every model is ready to score"));
    }

    Mono<DataPlane.ServerMetadata> server(ApiRequest request) {
        return Mono.just(dataPlane.serverMetadata());
    }

    Mono<ModelMetadata> metadata(ApiRequest request) {
        return dataPlane.metadata(request.pathVariable(MODEL), version(request));
    }

    Mono<DataPlane.ModelReady> modelReady(ApiRequest request) {
        return dataPlane.modelReady(request.pathVariable(MODEL), version(request));
    }

    Mono<InferenceResponse> infer(ApiRequest request) {
        String model = request.pathVariable(MODEL);
        Optional<String> version = version(request);
        Optional<String> routedAs = request.header(ApiRoutes.USER_ROUTING_HEADER);
        return request.body().map(reader::read)
                .doOnNext(inference -> routedAs.ifPresent(user -> sameUser(user, inference)))
                .flatMap(inference -> dataPlane.infer(model, version, inference));
    }

    /**
     * A request routed by its user's header must be for that user: otherwise the balancer sent it to the instance
     * holding another user's model, and every such request would load its user a second time somewhere else.
     */
    private static void sameUser(String routedAs, InferenceRequest inference) {
        inference.stringParameter(RentalsInference.USER_ID).filter(user -> !user.equals(routedAs)).ifPresent(user -> {
            throw new ApiException(HttpStatus.BAD_REQUEST, "header '" + ApiRoutes.USER_ROUTING_HEADER + "' names user '"
                    + routedAs + "' but the request's parameter '" + RentalsInference.USER_ID + "' is '" + user + "'",
                    ApiRoutes.USER_ROUTING_HEADER);
        });
    }

    Mono<Map<String, List<ModelCard>>> models(ApiRequest request) {
        return dataPlane.cards().map(cards -> Map.of("models", cards));
    }

    private static Optional<String> version(ApiRequest request) {
        return Optional.ofNullable(request.pathVariable(VERSION));
    }
}

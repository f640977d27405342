package io.mlgateway.api;

import io.mlgateway.errors.UnavailableException;
import io.mlgateway.oip.DataPlane;
import io.mlgateway.oip.InferenceRequest;
import io.mlgateway.oip.InferenceRequestReader;
import io.mlgateway.oip.InferenceResponse;
import io.mlgateway.oip.ModelCard;
import io.mlgateway.oip.ModelMetadata;
import io.mlgateway.oip.UserRouting;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
                .doOnNext(inference -> UserRouting.check(routedAs, inference))
                .flatMap(inference -> dataPlane.infer(model, version, inference));
    }

    Mono<Map<String, List<ModelCard>>> models(ApiRequest request) {
        return dataPlane.cards().map(cards -> Map.of("models", cards));
    }

    private static Optional<String> version(ApiRequest request) {
        return Optional.ofNullable(request.pathVariable(VERSION));
    }
}

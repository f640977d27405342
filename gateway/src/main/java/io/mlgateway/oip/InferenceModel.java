package io.mlgateway.oip;

import java.util.Optional;
import reactor.core.publisher.Mono;

/** A model as the protocol serves it: one per capability, calling the same service as its v1 endpoints. */
public interface InferenceModel {

    /** The name in {@code /v2/models/{name}}. */
    String name();

    /** The protocol's metadata, versions included (which may take a look at the model registry). */
    Mono<ModelMetadata> metadata();

    /** The names of the outputs an inference answers, for a request's output selection; a constant. */
    java.util.List<String> outputNames();

    /** Whether a request to this model can be scored now. */
    boolean ready();

    /** Whether {@code version} names a version of this model that a client may ask for. */
    Mono<Boolean> hasVersion(String version);

    /**
     * Scores the request's rows; a 400 {@link io.mlgateway.errors.ApiException} naming the tensor for bad input, a 404
     * when {@code version} is given and cannot serve this request.
     */
    Mono<Inference> infer(InferenceRequest request, Optional<String> version);

    /** The entry of {@code GET /v1/models}. */
    Mono<ModelCard> card();
}

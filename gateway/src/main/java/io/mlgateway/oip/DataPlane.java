package io.mlgateway.oip;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.mlgateway.errors.ApiException;
import io.mlgateway.errors.UnavailableException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The protocol's operations over the models served: find the model a request names (404 otherwise), check the
 * version asked for, let the model score, then apply what the protocol asks of every response (the request's id, or
 * a new one; only the outputs requested). One path behind every v2 endpoint.
 */
@Component
public class DataPlane {

    /** The server's name in {@code GET /v2}. */
    public static final String SERVER_NAME = "ml-inference-gateway";

    private final Map<String, InferenceModel> models = new LinkedHashMap<>();
    /** The gRPC service's full name: where {@code GET /v2} says the protocol's gRPC half is served. */
    public static final String GRPC_SERVICE = "inference.GRPCInferenceService";

    private final String serverVersion;
    private final GrpcEndpoint grpc;

    public DataPlane(List<InferenceModel> models, ServerVersion version, GrpcProperties grpc) {
        for (InferenceModel model : models) {
            if (this.models.put(model.name(), model) != null) {
                throw new IllegalStateException("two models are called " + model.name());
            }
        }
        this.serverVersion = version.value();
        this.grpc = grpc.enabled() ? new GrpcEndpoint(GRPC_SERVICE, grpc.port()) : null;
    }

    public ServerMetadata serverMetadata() {
        return new ServerMetadata(SERVER_NAME, serverVersion, List.of(), grpc);
    }

    public boolean live() {
        return true;
    }

    /** Ready when every model can score: what a readiness probe on the protocol asks. */
    public boolean ready() {
        return models.values().stream().allMatch(InferenceModel::ready);
    }

    public Mono<ModelMetadata> metadata(String name, Optional<String> version) {
        InferenceModel model = model(name);
        return checkVersion(model, version).then(model.metadata());
    }

    /** The model's readiness; a 503 when it cannot score yet, as KServe answers. */
    public Mono<ModelReady> modelReady(String name, Optional<String> version) {
        InferenceModel model = model(name);
        return checkVersion(model, version).then(Mono.defer(() -> {
            if (!model.ready()) {
                return Mono.error(new UnavailableException("model '" + name + "' is not ready"));
            }
            return Mono.just(new ModelReady(name, true));
        }));
    }

    public Mono<InferenceResponse> infer(String name, Optional<String> version, InferenceRequest request) {
        InferenceModel model = model(name);
        List<String> known = model.outputNames();
        for (String output : request.outputs()) {
            if (!known.contains(output)) {
                return Mono.error(ApiException.badRequest("output '" + output + "' is not an output of model '" + name
                        + "'; it has " + known));
            }
        }
        return model.infer(request, version).map(inference -> new InferenceResponse(name, inference.modelVersion(),
                request.id() != null ? request.id() : newId(), inference.parameters(),
                selected(inference.outputs(), request.outputs())));
    }

    /**
     * A random (version 4) UUID for a request that brought no id. ThreadLocalRandom rather than UUID.randomUUID():
     * this id only correlates a response, it guards nothing, and SecureRandom would serialize every request on it.
     */
    static String newId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long high = (random.nextLong() & ~0xF000L) | 0x4000L;
        long low = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(high, low).toString();
    }

    /** Every model's card, in the order they are served. */
    public Mono<List<ModelCard>> cards() {
        return Flux.fromIterable(models.values()).concatMap(InferenceModel::card).collectList();
    }

    private static List<ResponseOutput> selected(List<ResponseOutput> outputs, List<String> requested) {
        if (requested.isEmpty()) {
            return outputs;
        }
        List<ResponseOutput> selected = new ArrayList<>(requested.size());
        for (ResponseOutput output : outputs) {
            if (requested.contains(output.name())) {
                selected.add(output);
            }
        }
        return selected;
    }

    private InferenceModel model(String name) {
        InferenceModel model = models.get(name);
        if (model == null) {
            throw new ApiException(HttpStatus.NOT_FOUND, "model '" + name + "' not found; this server serves "
                    + models.keySet(), null);
        }
        return model;
    }

    private static Mono<Void> checkVersion(InferenceModel model, Optional<String> version) {
        if (version.isEmpty()) {
            return Mono.empty();
        }
        return model.hasVersion(version.get()).flatMap(found -> found ? Mono.empty()
                : Mono.error(new ApiException(HttpStatus.NOT_FOUND, "model '" + model.name() + "' has no version '"
                        + version.get() + "'", null)));
    }

    /**
     * The protocol's server metadata; {@code grpc}, beyond the protocol (clients ignore what they do not know), says
     * where its gRPC half answers, null when it is off.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ServerMetadata(String name, String version, List<String> extensions, GrpcEndpoint grpc) {
    }

    /** The gRPC service's name and the port this instance serves it on (a balancer may publish another). */
    public record GrpcEndpoint(String service, int port) {
    }

    public record ModelReady(String name, boolean ready) {
    }
}

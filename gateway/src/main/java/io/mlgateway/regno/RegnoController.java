package io.mlgateway.regno;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.mlgateway.api.ApiException;
import io.mlgateway.api.RequestBodies;
import java.util.ArrayList;
import java.util.List;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

/**
 * Licence-plate recognition checks: the customer's legacy {@code /reg/} contract and the versioned v1 API.
 * Bodies are read with a size cap and parsed here so every input problem becomes a 400 naming its field.
 */
@RestController
public class RegnoController {

    static final String INSTANCES = "instances";

    private final RegnoRequestParser parser;
    private final RegnoScorer scorer;
    private final RequestBodies bodies;
    private final int maxBatchSize;

    public RegnoController(RegnoRequestParser parser, RegnoScorer scorer, RequestBodies bodies, RegnoProperties properties) {
        this.parser = parser;
        this.scorer = scorer;
        this.bodies = bodies;
        this.maxBatchSize = properties.maxBatchSize();
    }

    /** The customer's original endpoint; some clients double-encode the body as a JSON string. */
    @PostMapping(path = {"/reg/", "/reg"}, consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    public Mono<LegacyResponse> legacy(ServerHttpRequest request) {
        return legacy(bodies.read(request));
    }

    /** The legacy endpoint's work on a body however it was read (WebFlux above, or {@code DirectRoutes}). */
    public Mono<LegacyResponse> legacy(Mono<byte[]> body) {
        return body
                .map(parser::parseBody)
                .flatMap(scorer::score)
                .map(p -> new LegacyResponse(p, "ok"));
    }

    @PostMapping(path = "/v1/regno/predict", consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    public Mono<Result> predict(ServerHttpRequest request) {
        return predict(bodies.read(request));
    }

    public Mono<Result> predict(Mono<byte[]> body) {
        return body
                .map(parser::parseBody)
                .flatMap(scorer::score)
                .map(p -> new Result(p.negative(), p.positive(), scorer.modelVersion()));
    }

    @PostMapping(path = "/v1/regno/predict/batch", consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    public Mono<BatchResponse> predictBatch(ServerHttpRequest request) {
        return bodies.read(request)
                .map(this::parseBatch)
                .flatMap(scorer::scoreAll)
                .map(predictions -> new BatchResponse(predictions.stream()
                        .map(p -> new Result(p.negative(), p.positive(), scorer.modelVersion()))
                        .toList()));
    }

    private List<RegnoRequest> parseBatch(byte[] body) {
        JsonNode root = parser.readTree(body);
        JsonNode instances = root.isObject() ? root.get(INSTANCES) : null;
        if (instances == null || !instances.isArray()) {
            throw ApiException.invalidField(INSTANCES, "is required and must be a list of recognitions");
        }
        if (instances.isEmpty()) {
            throw ApiException.invalidField(INSTANCES, "must not be empty");
        }
        if (instances.size() > maxBatchSize) {
            throw ApiException.invalidField(INSTANCES, "has " + instances.size() + " items, the limit is " + maxBatchSize);
        }
        List<RegnoRequest> requests = new ArrayList<>(instances.size());
        for (int i = 0; i < instances.size(); i++) {
            try {
                requests.add(parser.parse(instances.get(i)));
            } catch (ApiException e) {
                throw e.under(INSTANCES + "[" + i + "]");
            }
        }
        return requests;
    }

    /** {@code {"body":{"negative":…,"positive":…},"status":"ok"}}, as the customer's service answered. */
    public record LegacyResponse(RegnoPrediction body, String status) {
    }

    public record Result(double negative, double positive, @JsonProperty("model_version") String modelVersion) {
    }

    public record BatchResponse(List<Result> results) {
    }
}

package io.mlgateway.rentals;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.mlgateway.api.ApiException;
import io.mlgateway.api.RequestBodies;
import io.mlgateway.api.UnavailableException;
import io.mlgateway.shared.actuals.ActualsTable;
import io.mlgateway.shared.inferencelog.PredictionRecord;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.inferencelog.InferenceLog;
import io.mlgateway.inferencelog.RequestIds;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Per-user bike-rental forecasts. Every answered prediction is first accepted by the inference log (so its
 * actual can be joined back by request id); when the log cannot take it, the request is shed with 503 rather
 * than answered unlogged.
 */
@RestController
public class RentalsController {

    private final RentalsScorer scorer;
    private final InferenceLog inferenceLog;
    private final ModelRegistry registry;
    private final ActualsWriter actuals;
    private final RentalsReadiness readiness;
    private final RequestBodies bodies;
    private final JsonMapper json;
    private final RentalsProperties properties;

    public RentalsController(RentalsScorer scorer, InferenceLog inferenceLog, ModelRegistry registry,
            ActualsWriter actuals, RentalsReadiness readiness, RequestBodies bodies, JsonMapper json,
            RentalsProperties properties) {
        this.scorer = scorer;
        this.inferenceLog = inferenceLog;
        this.registry = registry;
        this.actuals = actuals;
        this.readiness = readiness;
        this.bodies = bodies;
        this.json = json;
        this.properties = properties;
    }

    @PostMapping(path = "/v1/rentals/{userId}/predict", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = MediaType.APPLICATION_JSON_VALUE)
    public Mono<Prediction> predict(@PathVariable String userId, ServerHttpRequest request) {
        return predict(userId, bodies.read(request));
    }

    /** The single-row prediction on a body however it was read (WebFlux above, or {@code DirectRoutes}). */
    public Mono<Prediction> predict(String userId, Mono<byte[]> requestBody) {
        String user;
        try {
            user = RentalsRequestParser.userId(userId);
        } catch (ApiException e) {
            return Mono.error(e);
        }
        return requestBody
                .map(body -> RentalsRequestParser.features(readTree(body), ""))
                .flatMap(row -> scorer.scoreOne(user, row).map(scored -> log(user, List.of(row), scored).get(0)));
    }

    @PostMapping(path = "/v1/rentals/{userId}/predict/batch", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = MediaType.APPLICATION_JSON_VALUE)
    public Mono<Predictions> predictBatch(@PathVariable String userId, ServerHttpRequest request) {
        String user = RentalsRequestParser.userId(userId);
        return bodies.read(request)
                .map(this::parseInstances)
                .flatMap(rows -> scorer.score(user, rows).map(scored -> new Predictions(log(user, rows, scored))));
    }

    @GetMapping(path = "/v1/rentals/{userId}/model", produces = MediaType.APPLICATION_JSON_VALUE)
    public Mono<ModelInfo> model(@PathVariable String userId) {
        String user = RentalsRequestParser.userId(userId);
        return readiness.requireReady()
                .then(registry.currentMetadata(user)
                        .switchIfEmpty(Mono.defer(() -> registry.currentMetadata(ModelRegistry.BASE_USER)))
                        .onErrorMap(e -> !(e instanceof ApiException),
                                e -> new UnavailableException("model registry unreachable")))
                .map(record -> ModelInfo.of(user, record, json));
    }

    @PostMapping(path = "/v1/rentals/actuals", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = MediaType.APPLICATION_JSON_VALUE)
    public Mono<ActualsResult> storeActuals(ServerHttpRequest request) {
        return readiness.requireReady().then(bodies.read(request)).flatMap(body -> {
            JsonNode items = readTree(body).get("actuals");
            if (items == null || !items.isArray() || items.isEmpty()) {
                throw ApiException.invalidField("actuals", "is required and must be a non-empty list");
            }
            if (items.size() > properties.maxActuals()) {
                throw ApiException.invalidField("actuals", "has " + items.size() + " items, the limit is "
                        + properties.maxActuals());
            }
            OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
            List<ActualResult> results = new ArrayList<>(items.size());
            Map<UUID, ActualsTable.Actual> distinct = new LinkedHashMap<>();
            for (int i = 0; i < items.size(); i++) {
                String[] problem = new String[1];
                ActualsTable.Actual actual = RentalsRequestParser.actual(items.get(i), now, problem);
                JsonNode id = items.get(i).get("request_id");
                String shownId = id != null && id.isString() ? id.stringValue() : null;
                if (actual == null) {
                    results.add(new ActualResult(shownId, "invalid", problem[0]));
                } else if (distinct.putIfAbsent(actual.requestId(), actual) != null) {
                    results.add(new ActualResult(shownId, "duplicate", "repeated in this request"));
                } else {
                    results.add(new ActualResult(actual.requestId().toString(), null, null));
                }
            }
            // An actual may overtake its prediction's trip through the inference-log buffer: wait for it.
            Set<UUID> pending = new HashSet<>();
            distinct.keySet().stream().filter(inferenceLog::isPending).forEach(pending::add);
            return inferenceLog.awaitPersisted(pending, properties.pendingLogTimeout())
                    .onErrorMap(e -> e instanceof TimeoutException || e instanceof IllegalStateException,
                            e -> new UnavailableException("predictions not yet persisted; retry shortly"))
                    .then(actuals.store(List.copyOf(distinct.values())))
                    .onErrorMap(e -> !(e instanceof ApiException || e instanceof UnavailableException),
                            e -> new UnavailableException("actuals store unreachable"))
                    .map(outcomes -> ActualsResult.of(results, outcomes));
        });
    }

    private List<Prediction> log(String user, List<float[]> rows, RentalsScorer.Scored scored) {
        Instant now = Instant.now();
        List<PredictionRecord> records = new ArrayList<>(rows.size());
        List<Prediction> answers = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            UUID requestId = RequestIds.next();
            float value = scored.predictions()[i];
            records.add(new PredictionRecord(requestId, user, scored.modelVersion(), rows.get(i), value, now));
            answers.add(new Prediction(requestId.toString(), user, scored.modelVersion(), value));
        }
        if (!inferenceLog.offerAll(records)) {
            throw new UnavailableException("inference log full; prediction not answered so that none goes unlogged");
        }
        return answers;
    }

    private List<float[]> parseInstances(byte[] body) {
        JsonNode instances = readTree(body).get("instances");
        if (instances == null || !instances.isArray() || instances.isEmpty()) {
            throw ApiException.invalidField("instances", "is required and must be a non-empty list");
        }
        if (instances.size() > properties.maxBatchSize()) {
            throw ApiException.invalidField("instances", "has " + instances.size() + " items, the limit is "
                    + properties.maxBatchSize());
        }
        List<float[]> rows = new ArrayList<>(instances.size());
        for (int i = 0; i < instances.size(); i++) {
            rows.add(RentalsRequestParser.features(instances.get(i), "instances[" + i + "]."));
        }
        return rows;
    }

    private JsonNode readTree(byte[] body) {
        return RequestBodies.jsonObject(json, body);
    }

    public record Prediction(@JsonProperty("request_id") String requestId, @JsonProperty("user_id") String userId,
            @JsonProperty("model_version") long modelVersion, double prediction) {
    }

    public record Predictions(List<Prediction> results) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ActualResult(@JsonProperty("request_id") String requestId, String status, String error) {
    }

    public record ActualsResult(List<ActualResult> results, Map<String, Integer> counts) {

        static ActualsResult of(List<ActualResult> parsed, Map<UUID, ActualsTable.Outcome> outcomes) {
            List<ActualResult> results = new ArrayList<>(parsed.size());
            Map<String, Integer> counts = new LinkedHashMap<>();
            for (String s : List.of("stored", "unknown_request_id", "duplicate", "invalid")) {
                counts.put(s, 0);
            }
            for (ActualResult r : parsed) {
                ActualResult done = r.status() != null ? r : new ActualResult(r.requestId(),
                        outcomes.get(UUID.fromString(r.requestId())).name().toLowerCase(java.util.Locale.ROOT), null);
                results.add(done);
                counts.merge(done.status(), 1, Integer::sum);
            }
            return new ActualsResult(results, counts);
        }
    }

    /**
     * @param trees       trees evaluated per prediction, the base's included
     * @param ownTrees    trees of this model's own (all of them for a standalone model)
     * @param baseVersion the version this model is layered on; null for a model that stands alone
     */
    public record ModelInfo(@JsonProperty("user_id") String userId, long version,
            @JsonProperty("parent_version") Long parentVersion, int trees, @JsonProperty("own_trees") int ownTrees,
            @JsonProperty("base_version") Long baseVersion, @JsonProperty("created_at") OffsetDateTime createdAt,
            JsonNode metrics, boolean base) {

        static ModelInfo of(String user, ModelRecord record, JsonMapper json) {
            return new ModelInfo(user, record.version(), record.parentVersion(), record.numTrees(), record.ownTrees(),
                    record.baseVersion(), record.createdAt(), json.readTree(record.metrics()), record.isBase());
        }
    }
}

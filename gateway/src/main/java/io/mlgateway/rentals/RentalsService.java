package io.mlgateway.rentals;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.mlgateway.errors.ApiException;
import io.mlgateway.errors.UnavailableException;
import io.mlgateway.inferencelog.InferenceLog;
import io.mlgateway.inferencelog.RequestIds;
import io.mlgateway.rentals.RentalsRequestParser.ActualItem;
import io.mlgateway.shared.actuals.ActualsTable;
import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.inferencelog.PredictionRecord;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Per-user bike-rental forecasts and their ground truth. Every answered prediction is first accepted by the
 * inference log (so its actual can be joined back by request id); when the log cannot take it, the request is shed
 * with 503 rather than answered unlogged.
 */
@Service
public class RentalsService {

    private final RentalsScorer scorer;
    private final InferenceLog inferenceLog;
    private final ModelRegistry registry;
    private final ActualsWriter actuals;
    private final RentalsReadiness readiness;
    private final JsonMapper json;
    private final RentalsProperties properties;

    public RentalsService(RentalsScorer scorer, InferenceLog inferenceLog, ModelRegistry registry,
            ActualsWriter actuals, RentalsReadiness readiness, JsonMapper json, RentalsProperties properties) {
        this.scorer = scorer;
        this.inferenceLog = inferenceLog;
        this.registry = registry;
        this.actuals = actuals;
        this.readiness = readiness;
        this.json = json;
        this.properties = properties;
    }

    /** Completes when rentals can be served (schema, base model, warm-up); a 503 until then. */
    public Mono<Void> ready() {
        return readiness.requireReady();
    }

    /** Whether rentals can be served now, without waiting. */
    public boolean isReady() {
        return readiness.isReady();
    }

    public int maxBatchSize() {
        return properties.maxBatchSize();
    }

    public int maxActuals() {
        return properties.maxActuals();
    }

    /** One forecast for {@code user}, logged under a new request id; with {@code explain}, its contributions. */
    public Mono<Prediction> predict(String user, float[] row, boolean explain) {
        List<float[]> rows = List.of(row);
        return score(user, rows, explain).map(scored -> log(user, rows, scored).get(0));
    }

    /** Forecasts for several rows of one user in one scoring call, each logged under its own request id. */
    public Mono<Predictions> predictBatch(String user, List<float[]> rows) {
        return predict(user, rows, Options.DEFAULT);
    }

    /**
     * Forecasts for {@code rows} of one user, each logged under its own request id. When {@code options} require a model version and another one serves the user, nothing is logged: a 404.
     */
    public Mono<Predictions> predict(String user, List<float[]> rows, Options options) {
        return score(user, rows, options.explain()).map(s -> {
            if (options.version() != null && s.modelVersion() != options.version()) {
                throw new ApiException(HttpStatus.NOT_FOUND, "model version " + options.version()
                        + " does not serve user '" + user + "'; version " + s.modelVersion() + " does", null);
            }
            return new Predictions(log(user, rows, s));
        });
    }

    /**
     * A single row without explanation joins the micro-batching lane shared by all users (explaining costs ~200
     * predictions, too much to hold a batch up); otherwise the rows are one task on the scoring pool.
     */
    private Mono<RentalsScorer.Scored> score(String user, List<float[]> rows, boolean explain) {
        return rows.size() == 1 && !explain ? scorer.scoreOne(user, rows.get(0)) : scorer.score(user, rows, explain);
    }

    /**
     * How to score: with explanations (TreeSHAP contributions), and only if a given model version serves the user.
     *
     * @param version the registry version required, or null for whichever serves the user
     */
    public record Options(boolean explain, Long version) {
        public static final Options DEFAULT = new Options(false, null);
    }

    /** The model serving {@code user}: its own, else the shared base. */
    public Mono<ModelInfo> model(String user) {
        return readiness.requireReady()
                .then(registry.currentMetadata(user)
                        .switchIfEmpty(Mono.defer(() -> registry.currentMetadata(ModelRegistry.BASE_USER)))
                        .onErrorMap(e -> !(e instanceof ApiException),
                                e -> new UnavailableException("model registry unreachable")))
                .map(record -> ModelInfo.of(user, record, json));
    }

    /**
     * Stores the valid, distinct actuals of an upload and answers each item in its place. An actual may overtake its
     * prediction's trip through the inference-log buffer, so those still pending here are awaited first; one whose
     * prediction another instance may still be buffering (not found, but young) is tried again, see
     * {@link #storeTryingYoungIdsAgain}.
     */
    public Mono<ActualsResult> storeActuals(List<ActualItem> items) {
        List<ActualResult> results = new ArrayList<>(items.size());
        Map<UUID, ActualsTable.Actual> distinct = new LinkedHashMap<>();
        for (ActualItem item : items) {
            if (item.actual() == null) {
                results.add(new ActualResult(item.shownId(), "invalid", item.problem()));
            } else if (distinct.putIfAbsent(item.actual().requestId(), item.actual()) != null) {
                results.add(new ActualResult(item.shownId(), "duplicate", "repeated in this request"));
            } else {
                results.add(new ActualResult(item.actual().requestId().toString(), null, null));
            }
        }
        Set<UUID> pending = distinct.keySet().stream().filter(inferenceLog::isPending).collect(Collectors.toSet());
        return inferenceLog.awaitPersisted(pending, properties.pendingLogTimeout())
                .onErrorMap(e -> e instanceof TimeoutException || e instanceof IllegalStateException,
                        e -> new UnavailableException("predictions not yet persisted; retry shortly"))
                .then(Mono.defer(() -> storeTryingYoungIdsAgain(List.copyOf(distinct.values()),
                        System.nanoTime() + properties.pendingLogTimeout().toNanos(), FIRST_RETRY)))
                .onErrorMap(e -> !(e instanceof ApiException || e instanceof UnavailableException),
                        e -> new UnavailableException("actuals store unreachable"))
                .map(outcomes -> ActualsResult.of(results, outcomes));
    }

    private static final Duration FIRST_RETRY = Duration.ofMillis(50);
    private static final Duration LAST_RETRY = Duration.ofSeconds(1);

    /**
     * Stores the actuals; those whose prediction is not found but whose request id is younger than
     * {@code unknown-id-grace} are stored again, with growing pauses, until {@code deadline} (nanoTime). Behind a
     * balancer an actual often reaches another instance than its prediction did, and that instance's inference-log
     * buffer (seconds behind in a database hiccup, minutes in an outage) is out of reach here: answering
     * unknown_request_id would make a client drop a true actual. Past the deadline the call answers 503 instead;
     * what was stored stays stored, and a retry answers it duplicate.
     */
    private Mono<Map<UUID, ActualsTable.Outcome>> storeTryingYoungIdsAgain(List<ActualsTable.Actual> batch,
            long deadline, Duration pause) {
        return actuals.store(batch).flatMap(outcomes -> {
            long youngSince = System.currentTimeMillis() - properties.unknownIdGrace().toMillis();
            List<ActualsTable.Actual> young = batch.stream()
                    .filter(a -> outcomes.get(a.requestId()) == ActualsTable.Outcome.UNKNOWN_REQUEST_ID
                            && RequestIds.issuedAtMillis(a.requestId()) >= youngSince)
                    .toList();
            if (young.isEmpty()) {
                return Mono.just(outcomes);
            }
            if (System.nanoTime() + pause.toNanos() > deadline) {
                return Mono.error(new UnavailableException("the prediction of request id " + young.get(0).requestId()
                        + " is not in the inference log yet (another instance may still hold it); retry shortly"));
            }
            Duration next = pause.multipliedBy(2).compareTo(LAST_RETRY) > 0 ? LAST_RETRY : pause.multipliedBy(2);
            return Mono.delay(pause)
                    .then(storeTryingYoungIdsAgain(young, deadline, next))
                    .map(retried -> {
                        Map<UUID, ActualsTable.Outcome> merged = new HashMap<>(outcomes);
                        merged.putAll(retried);
                        return merged;
                    });
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
            Explanation explanation = scored.contributions() == null ? null
                    : Explanation.of(scored.contributions()[i]);
            answers.add(new Prediction(requestId.toString(), user, scored.modelVersion(), value, explanation));
        }
        if (!inferenceLog.offerAll(records)) {
            throw new UnavailableException("inference log full; prediction not answered so that none goes unlogged");
        }
        return answers;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Prediction(@JsonProperty("request_id") String requestId, @JsonProperty("user_id") String userId,
            @JsonProperty("model_version") long modelVersion, double prediction, Explanation explanation) {
    }

    /**
     * Why a forecast is what it is: each feature's TreeSHAP contribution, in model order, and the bias (the model's
     * expected output); bias plus the contributions is the prediction.
     */
    public record Explanation(double bias, Map<String, Double> contributions) {

        static Explanation of(double[] values) {
            Map<String, Double> contributions = new LinkedHashMap<>();
            for (int f = 0; f < RentalFeatures.COUNT; f++) {
                contributions.put(RentalFeatures.NAMES.get(f), values[f]);
            }
            return new Explanation(values[RentalFeatures.COUNT], contributions);
        }

        /** The contributions then the bias, as xgboost's predictContrib lays them out. */
        public double[] asRow() {
            double[] values = new double[RentalFeatures.COUNT + 1];
            int f = 0;
            for (double contribution : contributions.values()) {
                values[f++] = contribution;
            }
            values[f] = bias;
            return values;
        }
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
                        outcomes.get(UUID.fromString(r.requestId())).name().toLowerCase(Locale.ROOT), null);
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

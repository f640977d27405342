package io.mlgateway.regno;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.mlgateway.errors.ApiException;
import org.springframework.http.HttpStatus;
import java.util.List;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Mono;

/**
 * Licence-plate recognition checks: the customer's legacy contract and the versioned v1 answers, on one scorer.
 */
@Service
public class RegnoService {

    private final RegnoScorer scorer;
    private final int maxBatchSize;

    public RegnoService(RegnoScorer scorer, RegnoProperties properties) {
        this.scorer = scorer;
        this.maxBatchSize = properties.maxBatchSize();
    }

    public int maxBatchSize() {
        return maxBatchSize;
    }

    public String modelVersion() {
        return scorer.modelVersion();
    }

    /** The CatBoost model's own features, in its order. */
    public List<String> featureNames() {
        return scorer.featureNames();
    }

    /**
     * Refuses a request for explanations: the CatBoost Java applier (catboost-prediction) evaluates the model but
     * exposes neither feature importances nor SHAP values, and the gateway does not guess them.
     */
    public static ApiException explanationsUnavailable(String field) {
        return new ApiException(HttpStatus.BAD_REQUEST, "explanations are not available for the regno model: the CatBoost "
                + "applier the gateway scores with computes no feature importances or SHAP values", field);
    }

    /** The customer's original answer: {@code {"body":{"negative":…,"positive":…},"status":"ok"}}. */
    public Mono<LegacyResponse> legacy(RegnoRequest request) {
        return scorer.score(request).map(p -> new LegacyResponse(p, "ok"));
    }

    public Mono<Result> predict(RegnoRequest request) {
        return scorer.score(request).map(this::result);
    }

    /** One native call for the whole batch. */
    public Mono<BatchResponse> predictBatch(List<RegnoRequest> requests) {
        return scorer.scoreAll(requests).map(predictions -> new BatchResponse(predictions.stream().map(this::result).toList()));
    }

    private Result result(RegnoPrediction p) {
        return new Result(p.negative(), p.positive(), scorer.modelVersion());
    }

    /** {@code {"body":{"negative":…,"positive":…},"status":"ok"}}, as the customer's service answered. */
    public record LegacyResponse(RegnoPrediction body, String status) {
    }

    public record Result(double negative, double positive, @JsonProperty("model_version") String modelVersion) {
    }

    public record BatchResponse(List<Result> results) {
    }
}

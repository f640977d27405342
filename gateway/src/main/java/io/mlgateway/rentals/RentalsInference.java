package io.mlgateway.rentals;

import io.mlgateway.errors.ApiException;
import io.mlgateway.errors.UnavailableException;
import io.mlgateway.oip.Datatype;
import io.mlgateway.oip.Inference;
import io.mlgateway.oip.InferenceModel;
import io.mlgateway.oip.InferenceRequest;
import io.mlgateway.oip.ModelCard;
import io.mlgateway.oip.ModelMetadata;
import io.mlgateway.oip.RequestInput;
import io.mlgateway.oip.ResponseOutput;
import io.mlgateway.oip.TensorMetadata;
import io.mlgateway.oip.UserRouting;
import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * The per-user rentals model on the Open Inference Protocol. The request names its user with the request parameter
 * {@code user_id} (the protocol's own way to carry what is not a tensor) and sends the features as one tensor
 * {@code features} of shape {@code [N, 12]} in model order. The answer carries, beside the predictions, each row's
 * {@code request_id}, under which the prediction is logged like a v1 one, so its actual can be posted later.
 */
@Component
public class RentalsInference implements InferenceModel {

    static final String NAME = "rentals";
    static final String PLATFORM = "xgboost_trees";
    public static final String USER_ID = UserRouting.USER_PARAMETER;
    public static final String EXPLAIN = "explain";
    static final String FEATURES = "features";
    static final String PREDICTIONS = "predictions";
    static final String REQUEST_ID = "request_id";
    static final String CONTRIBUTIONS = "contributions";

    static final List<TensorMetadata> INPUTS = List.of(
            TensorMetadata.of(FEATURES, Datatype.FP32, -1, RentalFeatures.COUNT));
    /** {@code contributions} only when the request sets {@code explain}: each feature's, then the bias. */
    static final List<TensorMetadata> OUTPUTS = List.of(
            TensorMetadata.of(PREDICTIONS, Datatype.FP32, -1),
            TensorMetadata.of(REQUEST_ID, Datatype.BYTES, -1),
            TensorMetadata.of(CONTRIBUTIONS, Datatype.FP64, -1, RentalFeatures.COUNT + 1));

    private final RentalsService rentals;
    private final ModelRegistry registry;

    public RentalsInference(RentalsService rentals, ModelRegistry registry) {
        this.rentals = rentals;
        this.registry = registry;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** Versions: the shared base model's; a user's own versions are asked for by number on the versioned paths. */
    @Override
    public Mono<ModelMetadata> metadata() {
        return base().map(base -> new ModelMetadata(NAME, List.of(Long.toString(base.version())), PLATFORM, INPUTS,
                OUTPUTS));
    }

    private static final List<String> OUTPUT_NAMES = OUTPUTS.stream().map(TensorMetadata::name).toList();

    @Override
    public List<String> outputNames() {
        return OUTPUT_NAMES;
    }

    @Override
    public boolean ready() {
        return rentals.isReady();
    }

    /** Any stored version that serves or has served a user (a rejected challenger never did). */
    @Override
    public Mono<Boolean> hasVersion(String version) {
        Long number = version(version);
        return number == null ? Mono.just(false) : registry.isServable(number)
                .onErrorMap(e -> new UnavailableException("model registry unreachable"));
    }

    @Override
    public Mono<Inference> infer(InferenceRequest request, Optional<String> version) {
        Long required = null;
        if (version.isPresent()) {
            required = version(version.get());
            if (required == null) {
                return Mono.error(new ApiException(HttpStatus.NOT_FOUND, "model '" + NAME + "' has no version '"
                        + version.get() + "'", null));
            }
        }
        String user = user(request);
        boolean explain = request.booleanParameter(EXPLAIN);
        List<float[]> rows = rows(request);
        return rentals.predict(user, rows, new RentalsService.Options(explain, required))
                .map(predictions -> inference(user, predictions.results(), explain));
    }

    private static String user(InferenceRequest request) {
        String user = request.stringParameter(USER_ID).orElseThrow(() -> ApiException.badRequest(
                "parameter '" + USER_ID + "' is required: the user whose model forecasts, e.g. "
                        + "\"parameters\": {\"" + USER_ID + "\": \"alice\"}"));
        try {
            return RentalsRequestParser.userId(user);
        } catch (ApiException e) {
            throw ApiException.badRequest(e.getMessage().replace("field 'userId'", "parameter '" + USER_ID + "'"));
        }
    }

    private List<float[]> rows(InferenceRequest request) {
        request.onlyInputs(Set.of(FEATURES));
        RequestInput features = request.input(FEATURES).requireNumeric(Datatype.FP32)
                .requireShape(-1, RentalFeatures.COUNT);
        int n = request.rows(rentals.maxBatchSize());
        List<float[]> rows = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            float[] row = new float[RentalFeatures.COUNT];
            for (int f = 0; f < row.length; f++) {
                double value = features.number(r * RentalFeatures.COUNT + f);
                if (!Float.isFinite((float) value)) {
                    throw features.invalid("element " + (r * RentalFeatures.COUNT + f) + " is out of FP32's range");
                }
                row[f] = (float) value;
            }
            rows.add(row);
        }
        return rows;
    }

    private static Inference inference(String user, List<RentalsService.Prediction> predictions, boolean explain) {
        int n = predictions.size();
        float[] values = new float[n];
        String[] requestIds = new String[n];
        double[] contributions = explain ? new double[n * (RentalFeatures.COUNT + 1)] : null;
        for (int i = 0; i < n; i++) {
            RentalsService.Prediction p = predictions.get(i);
            values[i] = (float) p.prediction();
            requestIds[i] = p.requestId();
            if (explain) {
                double[] row = p.explanation().asRow();
                System.arraycopy(row, 0, contributions, i * row.length, row.length);
            }
        }
        List<ResponseOutput> outputs = new ArrayList<>(3);
        outputs.add(ResponseOutput.of(PREDICTIONS, Datatype.FP32, values, n));
        outputs.add(ResponseOutput.of(REQUEST_ID, Datatype.BYTES, requestIds, n));
        if (explain) {
            outputs.add(ResponseOutput.of(CONTRIBUTIONS, Datatype.FP64, contributions, n, RentalFeatures.COUNT + 1));
        }
        return new Inference(Long.toString(predictions.get(0).modelVersion()), Map.of(USER_ID, user), outputs);
    }

    @Override
    public Mono<ModelCard> card() {
        return base().zipWith(registry.usersWithOwnModels().onErrorMap(
                        e -> new UnavailableException("model registry unreachable")))
                .map(t -> new ModelCard(NAME, PLATFORM, List.of(Long.toString(t.getT1().version())),
                        RentalFeatures.NAMES, RentalFeatures.NAMES, true,
                        new ModelCard.BaseModel(t.getT1().version(), t.getT1().numTrees(), t.getT1().createdAt()),
                        t.getT2()));
    }

    private Mono<ModelRecord> base() {
        return rentals.ready().then(registry.currentMetadata(ModelRegistry.BASE_USER)
                .onErrorMap(e -> !(e instanceof ApiException), e -> new UnavailableException("model registry unreachable"))
                .switchIfEmpty(Mono.error(() -> new UnavailableException("no base model yet"))));
    }

    private static Long version(String text) {
        try {
            long version = Long.parseLong(text);
            return version > 0 ? version : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}

package io.mlgateway.regno;

import io.mlgateway.errors.ApiException;
import io.mlgateway.oip.Datatype;
import io.mlgateway.oip.Inference;
import io.mlgateway.oip.InferenceModel;
import io.mlgateway.oip.InferenceRequest;
import io.mlgateway.oip.ModelCard;
import io.mlgateway.oip.ModelMetadata;
import io.mlgateway.oip.RequestInput;
import io.mlgateway.oip.ResponseOutput;
import io.mlgateway.oip.TensorMetadata;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * The regno model on the Open Inference Protocol: one input tensor per field of a recognition (text and categories
 * as BYTES, the score lists as BYTES holding a JSON list as test_data.csv does), one row per recognition. Each row
 * goes through the same field checks as a v1 body, straight from the tensors, and the same scoring service, so v1 and
 * v2 answer the same numbers.
 */
@Component
public class RegnoInference implements InferenceModel {

    static final String NAME = "regno";
    static final String PLATFORM = "catboost_cbm";
    static final String NEGATIVE = "negative";
    static final String POSITIVE = "positive";

    /** The request's fields as tensors, in the order of the customer's test_data.csv. */
    static final List<TensorMetadata> INPUTS = List.of(
            TensorMetadata.of(RegnoRequestParser.REGNO_RECOGNIZE, Datatype.BYTES, -1),
            TensorMetadata.of(RegnoRequestParser.AFTS_REGNO_AI, Datatype.BYTES, -1),
            TensorMetadata.of(RegnoRequestParser.RECOGNITION_ACCURACY, Datatype.FP64, -1),
            TensorMetadata.of(RegnoRequestParser.AFTS_REGNO_AI_SCORE, Datatype.FP64, -1),
            TensorMetadata.of(RegnoRequestParser.CHAR_SCORES, Datatype.BYTES, -1),
            TensorMetadata.of(RegnoRequestParser.LENGTH_SCORES, Datatype.BYTES, -1),
            TensorMetadata.of(RegnoRequestParser.CAMERA_TYPE, Datatype.BYTES, -1),
            TensorMetadata.of(RegnoRequestParser.CAMERA_CLASS, Datatype.BYTES, -1),
            TensorMetadata.of(RegnoRequestParser.TIME_CHECK, Datatype.BYTES, -1),
            TensorMetadata.of(RegnoRequestParser.DIRECTION, Datatype.INT64, -1));
    static final List<TensorMetadata> OUTPUTS = List.of(
            TensorMetadata.of(NEGATIVE, Datatype.FP64, -1),
            TensorMetadata.of(POSITIVE, Datatype.FP64, -1));
    private static final Set<String> INPUT_NAMES = new LinkedHashSet<>(INPUTS.stream().map(TensorMetadata::name).toList());
    private static final Datatype[] INPUT_DATATYPES = INPUTS.stream().map(t -> Datatype.valueOf(t.datatype()))
            .toArray(Datatype[]::new);
    private static final List<String> OUTPUT_NAMES = OUTPUTS.stream().map(TensorMetadata::name).toList();

    private final RegnoService regno;
    private final RegnoRequestParser parser;
    private final ModelMetadata metadata;

    public RegnoInference(RegnoService regno, RegnoRequestParser parser) {
        this.regno = regno;
        this.parser = parser;
        this.metadata = new ModelMetadata(NAME, List.of(regno.modelVersion()), PLATFORM, INPUTS, OUTPUTS);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Mono<ModelMetadata> metadata() {
        return Mono.just(metadata);
    }

    @Override
    public List<String> outputNames() {
        return OUTPUT_NAMES;
    }

    /** The model is loaded before the gateway starts serving. */
    @Override
    public boolean ready() {
        return true;
    }

    @Override
    public Mono<Boolean> hasVersion(String version) {
        return Mono.just(regno.modelVersion().equals(version));
    }

    @Override
    public Mono<Inference> infer(InferenceRequest request, Optional<String> version) {
        if (version.isPresent() && !regno.modelVersion().equals(version.get())) {
            return Mono.error(new ApiException(HttpStatus.NOT_FOUND, "model '" + NAME + "' has no version '"
                    + version.get() + "'", null));
        }
        if (request.booleanParameter("explain")) {
            return Mono.error(RegnoService.explanationsUnavailable("explain"));
        }
        List<RegnoRequest> recognitions = recognitions(request);
        Mono<List<RegnoService.Result>> results = recognitions.size() == 1
                ? regno.predict(recognitions.get(0)).map(List::of)
                : regno.predictBatch(recognitions).map(RegnoService.BatchResponse::results);
        return results.map(this::inference);
    }

    private List<RegnoRequest> recognitions(InferenceRequest request) {
        request.onlyInputs(INPUT_NAMES);
        RequestInput[] inputs = new RequestInput[INPUTS.size()];
        for (int i = 0; i < inputs.length; i++) {
            RequestInput input = request.input(INPUTS.get(i).name()).requireShape(-1);
            Datatype datatype = INPUT_DATATYPES[i];
            inputs[i] = datatype == Datatype.BYTES ? input.requireDatatype(datatype) : input.requireNumeric(datatype);
        }
        int rows = request.rows(regno.maxBatchSize());
        List<RegnoRequest> recognitions = new ArrayList<>(rows);
        for (int row = 0; row < rows; row++) {
            try {
                recognitions.add(recognition(inputs, row));
            } catch (ApiException e) {
                throw e.field() == null ? e : new ApiException(HttpStatus.BAD_REQUEST, "input '" + e.field()
                        + "', element " + row + ": " + e.getMessage().replace("field '" + e.field() + "' ", ""),
                        e.field());
            }
        }
        return recognitions;
    }

    /** Row {@code row} of the tensors (in {@link #INPUTS}' order), checked as v1 checks the same fields. */
    private RegnoRequest recognition(RequestInput[] inputs, int row) {
        return new RegnoRequest(
                RegnoRequestParser.plate(RegnoRequestParser.REGNO_RECOGNIZE, inputs[0].string(row)),
                RegnoRequestParser.plate(RegnoRequestParser.AFTS_REGNO_AI, inputs[1].string(row)),
                RegnoRequestParser.finite(RegnoRequestParser.RECOGNITION_ACCURACY, inputs[2].number(row)),
                RegnoRequestParser.finite(RegnoRequestParser.AFTS_REGNO_AI_SCORE, inputs[3].number(row)),
                parser.scores(RegnoRequestParser.CHAR_SCORES, inputs[4].string(row)),
                parser.scores(RegnoRequestParser.LENGTH_SCORES, inputs[5].string(row)),
                RegnoRequestParser.label(RegnoRequestParser.CAMERA_TYPE, inputs[6].string(row)),
                RegnoRequestParser.label(RegnoRequestParser.CAMERA_CLASS, inputs[7].string(row)),
                RegnoRequestParser.timeCheck(inputs[8].string(row)),
                RegnoRequestParser.direction(inputs[9].number(row)));
    }

    private Inference inference(List<RegnoService.Result> results) {
        int n = results.size();
        double[] negative = new double[n];
        double[] positive = new double[n];
        for (int i = 0; i < n; i++) {
            negative[i] = results.get(i).negative();
            positive[i] = results.get(i).positive();
        }
        return new Inference(regno.modelVersion(), null, List.of(
                ResponseOutput.of(NEGATIVE, Datatype.FP64, negative, n),
                ResponseOutput.of(POSITIVE, Datatype.FP64, positive, n)));
    }

    @Override
    public Mono<ModelCard> card() {
        return Mono.just(new ModelCard(NAME, PLATFORM, List.of(regno.modelVersion()), List.copyOf(INPUT_NAMES),
                regno.featureNames(), false, null, null));
    }
}

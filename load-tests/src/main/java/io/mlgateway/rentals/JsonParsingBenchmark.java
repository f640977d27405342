package io.mlgateway.rentals;

import io.mlgateway.oip.Datatype;
import io.mlgateway.oip.InferenceRequest;
import io.mlgateway.oip.InferenceRequestReader;
import io.mlgateway.oip.InferenceResponse;
import io.mlgateway.oip.ResponseOutput;
import io.mlgateway.regno.RegnoService;
import io.mlgateway.regno.RegnoRequest;
import io.mlgateway.regno.RegnoRequestParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import tools.jackson.databind.json.JsonMapper;

/**
 * The gateway's per-request JSON work with Jackson 3, without HTTP: parsing the sample bodies of load-tests/bench
 * (regno through the tree-based {@link RegnoRequestParser}, rentals through readTree + RentalsRequestParser; the same
 * recognition as Open Inference Protocol tensors through {@link InferenceRequestReader}) and writing the
 * single-prediction responses of both protocols. Set beside the scoring benchmarks it shows whether JSON or the model
 * dominates a request. In io.mlgateway.rentals because RentalsRequestParser is package-private.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class JsonParsingBenchmark {

    /** load-tests/bench/regno.json: score lists as strings holding JSON arrays, as the customer's clients send. */
    private static final String REGNO_BODY = "{\"regno_recognize\":\"А939НО196\",\"afts_regno_ai\":\"А939НО190\","
            + "\"recognition_accuracy\":6.4,\"afts_regno_ai_score\":0.8689166903495789,"
            + "\"afts_regno_ai_char_scores\":\"[0.9998925924301147, 0.9999872446060181, 0.9999798536300659, "
            + "0.9999990463256836, 0.9988356232643127, 0.9998175501823425, 1.0, 0.999994158744812, "
            + "0.8702163696289062]\",\"afts_regno_ai_length_scores\":\"[3.2404470773350624e-10, "
            + "3.236617363011618e-10, 3.2367283853140805e-10, 3.2651523151905337e-10, 3.234087164738497e-10, "
            + "3.259402747701756e-10, 3.2362224011706076e-10, 4.545459564297971e-09, 2.996458192683349e-08, 1.0, "
            + "3.2479344214131345e-10]\",\"camera_type\":\"Стационарная\",\"camera_class\":\"Астра-Трафик\","
            + "\"time_check\":\"2021-08-01 09:02:59\",\"direction\":0}";
    /** load-tests/bench/rentals.json. */
    private static final String RENTALS_BODY = "{\"features\":{\"season\":3,\"yr\":1,\"mnth\":7,\"hr\":17,"
            + "\"holiday\":0,\"weekday\":3,\"workingday\":1,\"weathersit\":1,\"temp\":0.72,\"atemp\":0.6667,"
            + "\"hum\":0.48,\"windspeed\":0.2239}}";

    private final JsonMapper json = JsonMapper.builder().build();
    private final RegnoRequestParser regnoParser = new RegnoRequestParser(json);
    private final byte[] regnoBody = REGNO_BODY.getBytes(StandardCharsets.UTF_8);
    private final byte[] rentalsBody = RENTALS_BODY.getBytes(StandardCharsets.UTF_8);
    private final InferenceRequestReader oipReader = new InferenceRequestReader(json);
    /** load-tests/bench/regno-oip.json: the same recognition as ten Open Inference Protocol tensors. */
    private final byte[] regnoOipBody = read("load-tests/bench/regno-oip.json");

    // Response values live in fields so the JIT cannot fold the records into constants.
    private double negative = 0.1374;
    private double positive = 0.8626;
    private String regnoVersion = "regno-0123456789ab";
    private String requestId = "6f1c2b9e-3d4a-4b8f-9e2c-7a5d1f0b8c3e";
    private String userId = "user-42";
    private long rentalsVersion = 7;
    private double prediction = 412.57421875;

    @Benchmark
    public RegnoRequest regnoParseBody() {
        return regnoParser.parseBody(regnoBody);
    }

    /** The protocol's structure only; validating the row then runs the same parser as regnoParseBody's fields. */
    @Benchmark
    public InferenceRequest regnoOipRead() {
        return oipReader.read(regnoOipBody);
    }

    @Benchmark
    public byte[] regnoOipWriteResponse() {
        return json.writeValueAsBytes(new InferenceResponse("regno", regnoVersion, requestId, null, List.of(
                ResponseOutput.of("negative", Datatype.FP64, new double[] {negative}, 1),
                ResponseOutput.of("positive", Datatype.FP64, new double[] {positive}, 1))));
    }

    @Benchmark
    public float[] rentalsParseFeatures() {
        return RentalsRequestParser.features(json.readTree(rentalsBody), "");
    }

    @Benchmark
    public byte[] regnoWriteResult() {
        return json.writeValueAsBytes(new RegnoService.Result(negative, positive, regnoVersion));
    }

    @Benchmark
    public byte[] rentalsWritePrediction() {
        return json.writeValueAsBytes(new RentalsService.Prediction(requestId, userId, rentalsVersion, prediction, null));
    }

    private static byte[] read(String file) {
        try {
            return Files.readAllBytes(Path.of(file));
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": run from the repository's root (run-jmh.sh does)", e);
        }
    }
}

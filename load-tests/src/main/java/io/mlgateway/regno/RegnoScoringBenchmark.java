package io.mlgateway.regno;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.springframework.core.io.ClassPathResource;
import tools.jackson.databind.json.JsonMapper;

/**
 * The CPU cost of checking licence-plate recognitions in-process, without HTTP: the feature recipe alone, and
 * recipe plus one CatBoost native call for a batch of 1, 8 or 64 recognitions. It tells how much of a request's
 * latency is scoring and how much batching saves per row. Inputs rotate over the customer's 100 real rows
 * (bench/regno_rows.jsonl, test_data.csv as request bodies) so plates, templates and branches vary as in traffic.
 *
 * <p>Scores are µs per row: {@code @OperationsPerInvocation} must be a compile-time constant, so each batch size
 * is its own method rather than a {@code @Param}; a batch's cost is score × batch size.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RegnoScoringBenchmark {

    private RegnoModel model;
    private RegnoRequest[] requests;
    private int cursor;

    @Setup
    public void setUp() throws IOException {
        RegnoRequestParser parser = new RegnoRequestParser(JsonMapper.builder().build());
        List<RegnoRequest> parsed = new ArrayList<>();
        for (String line : rows()) {
            parsed.add(parser.parseBody(line.getBytes(StandardCharsets.UTF_8)));
        }
        requests = parsed.toArray(new RegnoRequest[0]);
        model = RegnoModel.load(new ClassPathResource("models/regno/micromodel.cbm"));
    }

    @TearDown
    public void tearDown() {
        model.close();
    }

    /** The customer's recognitions as request bodies, one JSON object a line. */
    static List<String> rows() throws IOException {
        try (InputStream in = RegnoScoringBenchmark.class.getResourceAsStream("/bench/regno_rows.jsonl")) {
            if (in == null) {
                throw new IllegalStateException("bench/regno_rows.jsonl is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        }
    }

    private RegnoRequest next() {
        RegnoRequest r = requests[cursor];
        cursor = cursor + 1 == requests.length ? 0 : cursor + 1;
        return r;
    }

    @Benchmark
    public RegnoFeatures featuresOnly() {
        return RegnoFeatureRecipe.build(next());
    }

    @Benchmark
    @OperationsPerInvocation(1)
    public List<RegnoPrediction> featuresAndPredictBatch1() {
        return featuresAndPredict(1);
    }

    @Benchmark
    @OperationsPerInvocation(8)
    public List<RegnoPrediction> featuresAndPredictBatch8() {
        return featuresAndPredict(8);
    }

    @Benchmark
    @OperationsPerInvocation(64)
    public List<RegnoPrediction> featuresAndPredictBatch64() {
        return featuresAndPredict(64);
    }

    /** What the scorer does per batch: the recipe for each recognition, then one native predict call. */
    private List<RegnoPrediction> featuresAndPredict(int batch) {
        List<RegnoFeatures> features = new ArrayList<>(batch);
        for (int i = 0; i < batch; i++) {
            features.add(RegnoFeatureRecipe.build(next()));
        }
        return model.predict(features);
    }
}

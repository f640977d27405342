package io.mlgateway.rentals;

import biz.k11i.xgboost.Predictor;
import biz.k11i.xgboost.util.FVec;
import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.modelstore.ModelFormat;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.shared.training.BoosterTrainer;
import io.mlgateway.shared.training.TrainingSet;
import io.mlgateway.shared.trees.XGBoostTrees;
import io.mlgateway.shared.trees.ScoringModel;
import io.mlgateway.shared.trees.TreeEnsemble;
import io.mlgateway.shared.trees.TreeModel;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The CPU cost of scoring rentals rows in-process, without HTTP or the model store, with three engines on the same
 * trees:
 * <ul>
 *   <li>{@code java…}: the project's engine ({@link ScoringModel}, flat arrays, what the gateway serves);</li>
 *   <li>{@code xgboost…}: xgboost4j's {@code inplace_predict} (JNI, nthread=1 as the gateway used to run it);</li>
 *   <li>{@code h2o…}: ai.h2o:xgboost-predictor 0.3.20, the maintained pure-Java predictor, reading the same booster
 *       saved in XGBoost's deprecated binary format (the only one it reads).</li>
 * </ul>
 * Models ({@code model}): {@code base}, the 200-tree base model; {@code user}, a user's model as a retrain makes it
 * (the base plus 10 trees of its own fitted on 40 of its hours; for xgboost4j and h2o the continued 210-tree
 * booster); {@code big}, a 400-tree model (the retrainer's cap). Inputs rotate over real 2012 hours.
 *
 * <p>Scores are µs per row: {@code @OperationsPerInvocation} must be a compile-time constant, so each batch size is
 * its own method. {@code decodeUserModel} is what a gateway pays to make a user's stored model scoreable once its
 * bytes have arrived from Redis or PostgreSQL (decode the 10 own trees, bind them to the loaded base).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RentalsScoringBenchmark {

    /** Distinct inputs per variant: enough that branch predictors and caches cannot learn one row. */
    private static final int MAX_SLICES = 1024;

    @Param({"base", "user", "big"})
    public String model;

    private final JsonMapper json = JsonMapper.builder().build();
    private ScoringModel java;
    private Booster xgboost;
    private Predictor h2o;
    private ScoringModel loadedBase;
    private byte[] userModelBytes;
    private float[][] batch1;
    private float[][] batch8;
    private float[][] batch64;
    private FVec[] vectors;
    private byte[][] bodies;
    private int cursor;

    @Setup
    public void setUp() throws XGBoostError, IOException {
        List<BikeSharingData.Hour> hours = BikeSharingData.load();
        List<BikeSharingData.Hour> year2011 = hours.stream().filter(BikeSharingData.Hour::isYear2011).toList();
        List<BikeSharingData.Hour> year2012 = hours.stream().filter(h -> !h.isYear2011()).toList();
        Booster base = BoosterTrainer.trainBooster(TrainingSet.of(year2011), BoosterTrainer.BASE_ROUNDS);
        TreeModel baseModel = XGBoostTrees.standalone(base);
        loadedBase = baseModel.bind(null);
        Booster user = BoosterTrainer.continueBooster(base, TrainingSet.of(year2012.subList(1000, 1040)), 10);
        TreeEnsemble own = XGBoostTrees.trees(user).slice(BoosterTrainer.BASE_ROUNDS, BoosterTrainer.BASE_ROUNDS + 10);
        userModelBytes = ModelFormat.encode(TreeModel.layered(1L, own));
        switch (model) {
            case "base" -> {
                xgboost = base;
                java = loadedBase;
                user.dispose();
            }
            case "user" -> {
                xgboost = user;
                java = ScoringModel.layered(loadedBase, own);
                base.dispose();
            }
            case "big" -> {
                xgboost = BoosterTrainer.continueBooster(base, TrainingSet.of(year2012.subList(0, 4000)), 200);
                java = XGBoostTrees.standalone(xgboost).bind(null);
                base.dispose();
                user.dispose();
            }
            default -> throw new IllegalArgumentException(model);
        }
        xgboost.setParam("nthread", 1);
        h2o = new Predictor(new ByteArrayInputStream(xgboost.toByteArray("deprecated")));
        batch1 = slices(year2012, 1);
        batch8 = slices(year2012, 8);
        batch64 = slices(year2012, 64);
        vectors = new FVec[Math.min(year2012.size(), MAX_SLICES)];
        bodies = new byte[vectors.length][];
        for (int i = 0; i < vectors.length; i++) {
            vectors[i] = FVec.Transformer.fromArray(year2012.get(i).features(), false);
            bodies[i] = body(year2012.get(i).features());
        }
    }

    @TearDown
    public void tearDown() {
        xgboost.dispose();
    }

    /** Consecutive hours as row-major matrices of {@code rows} rows each, as the scorer receives them. */
    private static float[][] slices(List<BikeSharingData.Hour> hours, int rows) {
        float[][] slices = new float[Math.min(hours.size() / rows, MAX_SLICES)][rows * RentalFeatures.COUNT];
        for (int s = 0; s < slices.length; s++) {
            for (int r = 0; r < rows; r++) {
                System.arraycopy(hours.get(s * rows + r).features(), 0, slices[s], r * RentalFeatures.COUNT,
                        RentalFeatures.COUNT);
            }
        }
        return slices;
    }

    /** A body like bench/rentals.json: integral features as JSON integers, the rest as decimals. */
    private byte[] body(float[] features) {
        ObjectNode values = json.createObjectNode();
        for (int i = 0; i < RentalFeatures.COUNT; i++) {
            float v = features[i];
            if (v == (int) v) {
                values.put(RentalFeatures.NAMES.get(i), (int) v);
            } else {
                values.put(RentalFeatures.NAMES.get(i), v);
            }
        }
        ObjectNode body = json.createObjectNode();
        body.set("features", values);
        return json.writeValueAsBytes(body);
    }

    private int next(int length) {
        return (cursor++ & Integer.MAX_VALUE) % length;
    }

    private void java(float[] rows, int count, Blackhole sink) {
        for (int i = 0; i < count; i++) {
            sink.consume(java.predict(rows, i * RentalFeatures.COUNT));
        }
    }

    private float[][] xgboost(float[] rows, int count) throws XGBoostError {
        return xgboost.inplace_predict(rows, count, RentalFeatures.COUNT, Float.NaN);
    }

    private void h2o(int count, Blackhole sink) {
        int start = next(vectors.length);
        for (int i = 0; i < count; i++) {
            sink.consume(h2o.predictSingle(vectors[(start + i) % vectors.length]));
        }
    }

    @Benchmark
    @OperationsPerInvocation(1)
    public void javaBatch1(Blackhole sink) {
        java(batch1[next(batch1.length)], 1, sink);
    }

    @Benchmark
    @OperationsPerInvocation(8)
    public void javaBatch8(Blackhole sink) {
        java(batch8[next(batch8.length)], 8, sink);
    }

    @Benchmark
    @OperationsPerInvocation(64)
    public void javaBatch64(Blackhole sink) {
        java(batch64[next(batch64.length)], 64, sink);
    }

    @Benchmark
    @OperationsPerInvocation(1)
    public float[][] xgboostBatch1() throws XGBoostError {
        return xgboost(batch1[next(batch1.length)], 1);
    }

    @Benchmark
    @OperationsPerInvocation(8)
    public float[][] xgboostBatch8() throws XGBoostError {
        return xgboost(batch8[next(batch8.length)], 8);
    }

    @Benchmark
    @OperationsPerInvocation(64)
    public float[][] xgboostBatch64() throws XGBoostError {
        return xgboost(batch64[next(batch64.length)], 64);
    }

    @Benchmark
    @OperationsPerInvocation(1)
    public void h2oBatch1(Blackhole sink) {
        h2o(1, sink);
    }

    @Benchmark
    @OperationsPerInvocation(8)
    public void h2oBatch8(Blackhole sink) {
        h2o(8, sink);
    }

    @Benchmark
    @OperationsPerInvocation(64)
    public void h2oBatch64(Blackhole sink) {
        h2o(64, sink);
    }

    /** A user's stored model (10 own trees) from its bytes to ready to score on the loaded base. */
    @Benchmark
    public ScoringModel decodeUserModel() {
        return ModelFormat.decode(ModelFormat.TREES, userModelBytes).bind(loadedBase);
    }

    /** The single-prediction request path minus HTTP: parse the body, validate into model order, score. */
    @Benchmark
    public float parseAndPredict() {
        float[] row = RentalsRequestParser.features(json.readTree(bodies[next(bodies.length)]), "");
        return java.predict(row, 0);
    }

    /** Sanity for a smoke run: the engines agree on the first row (JMH prints nothing for a failed setup). */
    public static void main(String[] args) throws Exception {
        RentalsScoringBenchmark b = new RentalsScoringBenchmark();
        for (String m : List.of("base", "user", "big")) {
            b.model = m;
            b.setUp();
            float[] row = Arrays.copyOf(b.batch1[0], RentalFeatures.COUNT);
            System.out.printf("%s: java %s, xgboost4j %s, h2o %s%n", m, b.java.predict(row, 0),
                    b.xgboost(row, 1)[0][0], b.h2o.predictSingle(FVec.Transformer.fromArray(row, false)));
            b.tearDown();
        }
    }
}

package io.mlgateway.rentals;

import io.mlgateway.core.features.RentalFeatures;
import io.mlgateway.core.modelstore.ModelFormat;
import io.mlgateway.core.training.BikeSharingData;
import io.mlgateway.core.training.BoosterTrainer;
import io.mlgateway.core.training.TrainingSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import ml.dmlc.xgboost4j.java.Booster;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The CPU cost of rentals demand scoring in-process, without HTTP or the model store: one XGBoost inplace_predict
 * for 1, 8 or 64 rows, and for a single row the whole per-request path (JSON body → feature vector → predict).
 * The booster is the base model (200 rounds on 2011) round-tripped through {@link ModelFormat} as the gateway
 * holds it (including the nthread=1 that {@link ModelFormat#deserialize} sets: the UBJ model holds no runtime
 * config, and without it every call fanned out to all cores' OpenMP threads, 50-140x slower per row when batched
 * on a busy machine); inputs rotate over real 2012 hours of hour.csv, which the model never saw.
 *
 * <p>Scores are µs per row: {@code @OperationsPerInvocation} must be a compile-time constant, so each batch size
 * is its own method rather than a {@code @Param}; a batch's cost is score × batch size.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RentalsScoringBenchmark {

    /** Distinct inputs per variant: enough that branch predictors and caches cannot learn one row. */
    private static final int MAX_SLICES = 1024;

    private final JsonMapper json = JsonMapper.builder().build();
    private Booster booster;
    private float[][] batch1;
    private float[][] batch8;
    private float[][] batch64;
    private byte[][] bodies;
    private int cursor;

    @Setup
    public void setUp() {
        Booster trained = BoosterTrainer.trainFromScratch(
                TrainingSet.of(BikeSharingData.where(h -> h.isYear2011())), BoosterTrainer.BASE_ROUNDS);
        try {
            booster = ModelFormat.deserialize(ModelFormat.XGBOOST_UBJ, ModelFormat.serialize(trained));
        } finally {
            trained.dispose();
        }
        List<BikeSharingData.Hour> year2012 = BikeSharingData.where(h -> !h.isYear2011());
        batch1 = slices(year2012, 1);
        batch8 = slices(year2012, 8);
        batch64 = slices(year2012, 64);
        bodies = new byte[Math.min(year2012.size(), MAX_SLICES)][];
        for (int i = 0; i < bodies.length; i++) {
            bodies[i] = body(year2012.get(i).features());
        }
    }

    @TearDown
    public void tearDown() {
        booster.dispose();
    }

    /** Consecutive hours as row-major matrices of {@code rows} rows each, as the scorer flattens a request. */
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

    @Benchmark
    @OperationsPerInvocation(1)
    public float[] predictBatch1() {
        return BoosterTrainer.predict(booster, batch1[next(batch1.length)], 1);
    }

    @Benchmark
    @OperationsPerInvocation(8)
    public float[] predictBatch8() {
        return BoosterTrainer.predict(booster, batch8[next(batch8.length)], 8);
    }

    @Benchmark
    @OperationsPerInvocation(64)
    public float[] predictBatch64() {
        return BoosterTrainer.predict(booster, batch64[next(batch64.length)], 64);
    }

    /** The single-prediction request path minus HTTP: parse the body, validate into model order, score. */
    @Benchmark
    public float[] parseAndPredict() {
        float[] row = RentalsRequestParser.features(json.readTree(bodies[next(bodies.length)]), "");
        return BoosterTrainer.predict(booster, row, 1);
    }
}

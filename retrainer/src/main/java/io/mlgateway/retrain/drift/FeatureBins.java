package io.mlgateway.retrain.drift;

import io.mlgateway.shared.features.RentalFeatures;
import java.util.Collection;
import java.util.Map;

/**
 * Fixed histogram bins per rentals feature, for the population stability index: the calendar features bin by value,
 * the normalised weather features ({@code hour.csv} scales them to 0..1) in ten equal bins. Fixed edges make a
 * model's training reference and a later sample of requests comparable without storing edges.
 */
public final class FeatureBins {

    /** Values {@code min..max} in {@code bins} equal bins (out-of-range values fall in the first or last). */
    private record Spec(float min, float max, int bins) {
    }

    private static final Map<String, Spec> SPECS = Map.ofEntries(
            Map.entry("season", new Spec(1, 5, 4)),
            Map.entry("yr", new Spec(0, 2, 2)),
            Map.entry("mnth", new Spec(1, 13, 12)),
            Map.entry("hr", new Spec(0, 24, 24)),
            Map.entry("holiday", new Spec(0, 2, 2)),
            Map.entry("weekday", new Spec(0, 7, 7)),
            Map.entry("workingday", new Spec(0, 2, 2)),
            Map.entry("weathersit", new Spec(1, 5, 4)),
            Map.entry("temp", new Spec(0, 1, 10)),
            Map.entry("atemp", new Spec(0, 1, 10)),
            Map.entry("hum", new Spec(0, 1, 10)),
            Map.entry("windspeed", new Spec(0, 1, 10)));

    /** Added to every bin's share so an empty bin does not make the index infinite. */
    private static final double SMOOTHING = 1e-4;

    private static final Spec[] BY_INDEX = new Spec[RentalFeatures.COUNT];

    static {
        for (int i = 0; i < RentalFeatures.COUNT; i++) {
            BY_INDEX[i] = SPECS.get(RentalFeatures.NAMES.get(i));
            if (BY_INDEX[i] == null) {
                throw new IllegalStateException("no drift bins for feature " + RentalFeatures.NAMES.get(i));
            }
        }
    }

    private FeatureBins() {
    }

    static int bin(int feature, float value) {
        Spec spec = BY_INDEX[feature];
        if (Float.isNaN(value)) {
            return 0;
        }
        int bin = (int) Math.floor((value - spec.min()) / (spec.max() - spec.min()) * spec.bins());
        return Math.max(0, Math.min(spec.bins() - 1, bin));
    }

    /** Share of {@code rows} in each bin, per feature in model order (each feature's shares sum to 1). */
    public static double[][] shares(Collection<float[]> rows) {
        double[][] shares = new double[RentalFeatures.COUNT][];
        for (int f = 0; f < RentalFeatures.COUNT; f++) {
            shares[f] = new double[BY_INDEX[f].bins()];
        }
        for (float[] row : rows) {
            for (int f = 0; f < RentalFeatures.COUNT; f++) {
                shares[f][bin(f, row[f])] += 1;
            }
        }
        for (double[] feature : shares) {
            for (int b = 0; b < feature.length; b++) {
                feature[b] /= Math.max(1, rows.size());
            }
        }
        return shares;
    }

    /** Population stability index of {@code actual} against {@code expected}, both shares of the same bins. */
    public static double psi(double[] expected, double[] actual) {
        if (expected.length != actual.length) {
            throw new IllegalArgumentException(expected.length + " reference bins, " + actual.length + " observed");
        }
        double psi = 0;
        for (int b = 0; b < expected.length; b++) {
            double e = expected[b] + SMOOTHING;
            double a = actual[b] + SMOOTHING;
            psi += (a - e) * Math.log(a / e);
        }
        return psi;
    }
}

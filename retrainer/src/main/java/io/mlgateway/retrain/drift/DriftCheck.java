package io.mlgateway.retrain.drift;

import io.mlgateway.shared.features.RentalFeatures;
import java.util.Collection;
import java.util.Locale;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A model's training reference (the share of its training rows in each feature's bins, stored in the version's
 * metrics as {@code reference}) and the drift of later requests from it: the largest per-feature population
 * stability index, and the feature it is found on.
 */
public final class DriftCheck {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** The drift found: the largest per-feature PSI and its feature. */
    public record Drift(double psi, String feature) {
    }

    private DriftCheck() {
    }

    /** The reference of a model fitted on {@code rows}, as the JSON value stored under metrics' "reference". */
    public static String reference(Collection<float[]> rows) {
        double[][] shares = FeatureBins.shares(rows);
        StringBuilder json = new StringBuilder("{\"rows\": ").append(rows.size()).append(", \"shares\": [");
        for (int f = 0; f < shares.length; f++) {
            json.append(f == 0 ? "[" : ", [");
            for (int b = 0; b < shares[f].length; b++) {
                json.append(b == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.5f", shares[f][b]));
            }
            json.append(']');
        }
        return json.append("]}").toString();
    }

    /** Drift of {@code recent} requests from a stored {@code reference} (see {@link #reference}). */
    public static Drift of(String reference, Collection<float[]> recent) {
        JsonNode shares = JSON.readTree(reference).get("shares");
        if (shares == null || shares.size() != RentalFeatures.COUNT) {
            throw new IllegalArgumentException("reference without shares for " + RentalFeatures.COUNT + " features");
        }
        double[][] observed = FeatureBins.shares(recent);
        double worst = 0;
        String feature = RentalFeatures.NAMES.get(0);
        for (int f = 0; f < RentalFeatures.COUNT; f++) {
            double[] expected = new double[shares.get(f).size()];
            for (int b = 0; b < expected.length; b++) {
                expected[b] = shares.get(f).get(b).doubleValue();
            }
            double psi = FeatureBins.psi(expected, observed[f]);
            if (psi > worst) {
                worst = psi;
                feature = RentalFeatures.NAMES.get(f);
            }
        }
        return new Drift(worst, feature);
    }
}

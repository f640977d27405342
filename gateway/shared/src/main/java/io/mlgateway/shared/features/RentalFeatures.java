package io.mlgateway.shared.features;

import java.util.List;
import java.util.Map;

/**
 * The rentals model's inputs, in the order every booster was trained with and every logged vector is stored in.
 * This list is the only definition of that order: request parsing, the inference log and training all use it.
 */
public final class RentalFeatures {

    /** UCI Bike Sharing hour.csv columns, in model order. */
    public static final List<String> NAMES = List.of(
            "season", "yr", "mnth", "hr", "holiday", "weekday", "workingday", "weathersit",
            "temp", "atemp", "hum", "windspeed");

    public static final int COUNT = NAMES.size();

    private static final Map<String, Integer> INDEX;

    static {
        Map<String, Integer> index = new java.util.HashMap<>();
        for (int i = 0; i < NAMES.size(); i++) {
            index.put(NAMES.get(i), i);
        }
        INDEX = Map.copyOf(index);
    }

    private RentalFeatures() {
    }

    /**
     * {@code rows} (each {@link #COUNT} values in model order) one after the other: the row-major matrix XGBoost
     * trains on and the flat {@code real[]} the inference log writes.
     */
    public static float[] rowMajor(List<float[]> rows) {
        float[] matrix = new float[rows.size() * COUNT];
        for (int i = 0; i < rows.size(); i++) {
            float[] row = rows.get(i);
            if (row.length != COUNT) {
                throw new IllegalArgumentException("row " + i + " has " + row.length + " features, not " + COUNT);
            }
            System.arraycopy(row, 0, matrix, i * COUNT, COUNT);
        }
        return matrix;
    }

    /** Position of {@code name} in model order, or -1 if the model has no such feature. */
    public static int indexOf(String name) {
        Integer i = INDEX.get(name);
        return i == null ? -1 : i;
    }
}

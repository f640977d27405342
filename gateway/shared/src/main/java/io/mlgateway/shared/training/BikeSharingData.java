package io.mlgateway.shared.training;

import io.mlgateway.shared.features.RentalFeatures;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

/**
 * The UCI Bike Sharing dataset, hourly (hour.csv, shipped in this jar with its Readme): Fanaee-T, Hadi, and Gama,
 * Joao, "Event labeling combining ensemble detectors and background knowledge", Progress in Artificial
 * Intelligence (2013), pp. 1-15, Springer, doi:10.1007/s13748-013-0040-3. Features are read by column name into
 * {@link RentalFeatures} order; the target is {@code cnt}.
 */
public final class BikeSharingData {

    private static final String RESOURCE = "/bike-sharing/hour.csv";

    private BikeSharingData() {
    }

    /** One hour of rentals. {@code features} is in {@link RentalFeatures#NAMES} order. */
    public record Hour(String date, float[] features, float count) {

        public boolean isYear2011() {
            return features[RentalFeatures.indexOf("yr")] == 0f;
        }
    }

    public static List<Hour> load() {
        try (InputStream in = BikeSharingData.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the classpath");
            }
            String[] lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\r?\n");
            List<String> header = Arrays.asList(lines[0].split(","));
            int[] columns = RentalFeatures.NAMES.stream().mapToInt(header::indexOf).toArray();
            int countColumn = header.indexOf("cnt");
            int dateColumn = header.indexOf("dteday");
            if (Arrays.stream(columns).anyMatch(c -> c < 0) || countColumn < 0) {
                throw new IllegalStateException("hour.csv lacks a model column; header: " + header);
            }
            List<Hour> hours = new ArrayList<>(lines.length);
            for (int i = 1; i < lines.length; i++) {
                if (lines[i].isBlank()) {
                    continue;
                }
                String[] cells = lines[i].split(",");
                float[] features = new float[columns.length];
                for (int f = 0; f < columns.length; f++) {
                    features[f] = Float.parseFloat(cells[columns[f]]);
                }
                hours.add(new Hour(cells[dateColumn], features, Float.parseFloat(cells[countColumn])));
            }
            return List.copyOf(hours);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static List<Hour> where(Predicate<Hour> filter) {
        return load().stream().filter(filter).toList();
    }
}

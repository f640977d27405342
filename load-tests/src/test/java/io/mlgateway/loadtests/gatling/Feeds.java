package io.mlgateway.loadtests.gatling;

import static io.gatling.javaapi.core.CoreDsl.csv;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.training.BikeSharingData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Request bodies built once, before a run, from the project's own data: the customer's 100 recognitions
 * ({@code regno/test_data.csv}, the gateway's test resource) and the UCI Bike Sharing hours (the shared module's
 * {@code bike-sharing/hour.csv}). Built ahead so the load generator spends its time sending, not formatting.
 */
final class Feeds {

    private Feeds() {
    }

    /** The 100 recognitions as clients send them: numbers as JSON numbers, the score lists as the CSV's strings. */
    static List<String> regnoBodies() {
        List<Map<String, Object>> rows = csv("regno/test_data.csv").readRecords();
        if (rows.size() != 100) {
            throw new IllegalStateException("regno/test_data.csv has " + rows.size() + " rows, expected 100");
        }
        List<String> bodies = new ArrayList<>(rows.size());
        for (Map<String, Object> row : rows) {
            StringBuilder json = new StringBuilder("{");
            row.forEach((name, value) -> {
                if (json.length() > 1) {
                    json.append(',');
                }
                json.append(quote(name)).append(':');
                String text = String.valueOf(value);
                switch (name) {
                    case "recognition_accuracy", "afts_regno_ai_score", "direction" -> json.append(text);
                    default -> json.append(quote(text));
                }
            });
            bodies.add(json.append('}').toString());
        }
        return bodies;
    }

    /** One hour of hour.csv: its prediction request body and its true count (the later actual). */
    record Hour(String body, long count) {
    }

    /** Every hour of hour.csv (17,379), in file order. */
    static List<Hour> hours() {
        List<BikeSharingData.Hour> hours = BikeSharingData.load();
        List<Hour> out = new ArrayList<>(hours.size());
        for (BikeSharingData.Hour hour : hours) {
            out.add(new Hour(rentalsBody(hour.features()), Math.round(hour.count())));
        }
        return out;
    }

    /** {@code {"features":{...}}} in the model's feature order; whole numbers without a fraction. */
    static String rentalsBody(float[] features) {
        StringBuilder json = new StringBuilder("{\"features\":{");
        for (int i = 0; i < RentalFeatures.COUNT; i++) {
            if (i > 0) {
                json.append(',');
            }
            float v = features[i];
            json.append(quote(RentalFeatures.NAMES.get(i))).append(':');
            if (v == Math.rint(v)) {
                json.append((long) v);
            } else {
                json.append(v);
            }
        }
        return json.append("}}").toString();
    }

    private static String quote(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}

package io.mlgateway.rentals;

import io.mlgateway.api.ApiException;
import io.mlgateway.shared.actuals.ActualsTable;
import io.mlgateway.shared.features.RentalFeatures;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/** Validates rentals inputs into model-ready values, or a 400 naming what is wrong. */
public final class RentalsRequestParser {

    /** Letters, digits, '.', '_', '-'; starts with a letter or digit ('_' prefixes are reserved, e.g. '_base'). */
    private static final Pattern USER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private RentalsRequestParser() {
    }

    public static String userId(String userId) {
        if (userId == null || !USER_ID.matcher(userId).matches()) {
            throw ApiException.invalidField("userId",
                    "must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        return userId;
    }

    /** {@code {"features":{name: number, …}}} → the vector in model order. */
    static float[] features(JsonNode instance, String path) {
        JsonNode features = instance == null || !instance.isObject() ? null : instance.get("features");
        String field = path + "features";
        if (features == null || !features.isObject()) {
            throw ApiException.invalidField(field, "is required and must be an object of " + RentalFeatures.NAMES);
        }
        float[] vector = new float[RentalFeatures.COUNT];
        boolean[] seen = new boolean[RentalFeatures.COUNT];
        TreeSet<String> extra = new TreeSet<>();
        TreeSet<String> invalid = new TreeSet<>();
        for (Map.Entry<String, JsonNode> entry : features.properties()) {
            int index = RentalFeatures.indexOf(entry.getKey());
            if (index < 0) {
                extra.add(entry.getKey());
                continue;
            }
            JsonNode value = entry.getValue();
            if (!value.isNumber() || !Double.isFinite(value.doubleValue())
                    || !Float.isFinite((float) value.doubleValue())) {
                invalid.add(entry.getKey());
                continue;
            }
            vector[index] = (float) value.doubleValue();
            seen[index] = true;
        }
        if (!extra.isEmpty()) {
            throw ApiException.invalidField(field, "has unknown features " + extra + "; expected " + RentalFeatures.NAMES);
        }
        if (!invalid.isEmpty()) {
            throw ApiException.invalidField(field, "has non-numeric or non-finite values for " + invalid);
        }
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < seen.length; i++) {
            if (!seen[i]) {
                missing.add(RentalFeatures.NAMES.get(i));
            }
        }
        if (!missing.isEmpty()) {
            throw ApiException.invalidField(field, "is missing features " + missing);
        }
        return vector;
    }

    /** One actual, or null with the reason in {@code problem[0]} when it is invalid. */
    static ActualsTable.Actual actual(JsonNode item, OffsetDateTime now, String[] problem) {
        if (item == null || !item.isObject()) {
            problem[0] = "must be an object";
            return null;
        }
        JsonNode id = item.get("request_id");
        UUID requestId;
        try {
            requestId = id != null && id.isString() ? UUID.fromString(id.stringValue()) : null;
        } catch (IllegalArgumentException e) {
            requestId = null;
        }
        if (requestId == null || !requestId.toString().equalsIgnoreCase(id.stringValue())) {
            problem[0] = "request_id must be a UUID";
            return null;
        }
        JsonNode value = item.get("actual_value");
        if (value == null || !value.isNumber() || !Double.isFinite(value.doubleValue()) || value.doubleValue() < 0) {
            problem[0] = "actual_value must be a finite number >= 0";
            return null;
        }
        OffsetDateTime timestamp = now;
        JsonNode ts = item.get("timestamp");
        if (ts != null && !ts.isNull()) {
            try {
                timestamp = OffsetDateTime.parse(ts.isString() ? ts.stringValue() : "");
            } catch (DateTimeParseException e) {
                problem[0] = "timestamp must be an ISO-8601 date-time with offset, e.g. 2012-06-01T08:00:00Z";
                return null;
            }
        }
        return new ActualsTable.Actual(requestId, value.doubleValue(), timestamp);
    }
}

package io.mlgateway.rentals;

import io.mlgateway.errors.ApiException;
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

/** Validates rentals inputs (the v1 JSON bodies) into model-ready values, or a 400 naming what is wrong. */
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
    public static float[] features(JsonNode instance, String path) {
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

    /** {@code {"instances":[{"features":{…}}, …]}} → one vector per instance, at most {@code max}. */
    public static List<float[]> instances(JsonNode body, int max) {
        JsonNode instances = body.get("instances");
        if (instances == null || !instances.isArray() || instances.isEmpty()) {
            throw ApiException.invalidField("instances", "is required and must be a non-empty list");
        }
        if (instances.size() > max) {
            throw ApiException.invalidField("instances", "has " + instances.size() + " items, the limit is " + max);
        }
        List<float[]> rows = new ArrayList<>(instances.size());
        for (int i = 0; i < instances.size(); i++) {
            rows.add(features(instances.get(i), "instances[" + i + "]."));
        }
        return rows;
    }

    /**
     * One item of an actuals upload: the parsed actual, or why it is invalid. Invalid items do not fail the upload;
     * each is answered in its place.
     *
     * @param shownId the item's request_id as sent (null if it was not a string), to answer it by
     */
    public record ActualItem(String shownId, ActualsTable.Actual actual, String problem) {

        static ActualItem valid(String shownId, ActualsTable.Actual actual) {
            return new ActualItem(shownId, actual, null);
        }

        static ActualItem invalid(String shownId, String problem) {
            return new ActualItem(shownId, null, problem);
        }
    }

    /** {@code {"actuals":[{request_id, actual_value, timestamp?}, …]}}, at most {@code max}; {@code now} if no timestamp. */
    public static List<ActualItem> actuals(JsonNode body, int max, OffsetDateTime now) {
        JsonNode items = body.get("actuals");
        if (items == null || !items.isArray() || items.isEmpty()) {
            throw ApiException.invalidField("actuals", "is required and must be a non-empty list");
        }
        if (items.size() > max) {
            throw ApiException.invalidField("actuals", "has " + items.size() + " items, the limit is " + max);
        }
        List<ActualItem> parsed = new ArrayList<>(items.size());
        for (JsonNode item : items) {
            parsed.add(actual(item, now));
        }
        return parsed;
    }

    static ActualItem actual(JsonNode item, OffsetDateTime now) {
        if (item == null || !item.isObject()) {
            return ActualItem.invalid(null, "must be an object");
        }
        JsonNode id = item.get("request_id");
        String shownId = id != null && id.isString() ? id.stringValue() : null;
        UUID requestId;
        try {
            requestId = shownId != null ? UUID.fromString(shownId) : null;
        } catch (IllegalArgumentException e) {
            requestId = null;
        }
        if (requestId == null || !requestId.toString().equalsIgnoreCase(shownId)) {
            return ActualItem.invalid(shownId, "request_id must be a UUID");
        }
        JsonNode value = item.get("actual_value");
        if (value == null || !value.isNumber() || !Double.isFinite(value.doubleValue()) || value.doubleValue() < 0) {
            return ActualItem.invalid(shownId, "actual_value must be a finite number >= 0");
        }
        OffsetDateTime timestamp = now;
        JsonNode ts = item.get("timestamp");
        if (ts != null && !ts.isNull()) {
            try {
                timestamp = OffsetDateTime.parse(ts.isString() ? ts.stringValue() : "");
            } catch (DateTimeParseException e) {
                return ActualItem.invalid(shownId,
                        "timestamp must be an ISO-8601 date-time with offset, e.g. 2012-06-01T08:00:00Z");
            }
        }
        return ActualItem.valid(shownId, new ActualsTable.Actual(requestId, value.doubleValue(), timestamp));
    }
}

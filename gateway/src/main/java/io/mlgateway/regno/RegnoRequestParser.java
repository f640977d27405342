package io.mlgateway.regno;

import io.mlgateway.errors.ApiException;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.util.regex.Pattern;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns a JSON recognition into a {@link RegnoRequest}, or a 400 that names the offending field. It accepts what
 * the customer's clients send: numbers as JSON numbers or numeric strings, score lists as a JSON array or as a
 * string holding one ("[0.99, 0.87]"), and the whole body double-encoded as a JSON string.
 */
@Component
public class RegnoRequestParser {

    static final String INSTANCES = "instances";
    public static final String REGNO_RECOGNIZE = "regno_recognize";
    public static final String AFTS_REGNO_AI = "afts_regno_ai";
    public static final String RECOGNITION_ACCURACY = "recognition_accuracy";
    public static final String AFTS_REGNO_AI_SCORE = "afts_regno_ai_score";
    public static final String CHAR_SCORES = "afts_regno_ai_char_scores";
    public static final String LENGTH_SCORES = "afts_regno_ai_length_scores";
    public static final String CAMERA_TYPE = "camera_type";
    public static final String CAMERA_CLASS = "camera_class";
    public static final String TIME_CHECK = "time_check";
    public static final String DIRECTION = "direction";

    /** Longer plates or camera names than these are not recognitions; refusing them bounds per-request work. */
    static final int MAX_PLATE_LENGTH = 32;
    static final int MAX_LABEL_LENGTH = 200;
    static final int MAX_SCORES = 64;

    private static final DateTimeFormatter TIME_CHECK_FORMAT =
            DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss").withResolverStyle(ResolverStyle.STRICT);
    /** JSON's number grammar: no NaN, no Infinity, no hex or Java suffixes that Double.parseDouble would take. */
    private static final Pattern JSON_NUMBER = Pattern.compile("-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?");

    private final JsonMapper json;

    public RegnoRequestParser(JsonMapper json) {
        this.json = json;
    }

    /** Parses a whole request body. */
    public RegnoRequest parseBody(byte[] body) {
        return parse(readTree(body));
    }

    /** Parses {@code {"instances":[recognition, …]}} of at most {@code max} recognitions. */
    public List<RegnoRequest> parseBatch(byte[] body, int max) {
        JsonNode root = readTree(body);
        JsonNode instances = root.isObject() ? root.get(INSTANCES) : null;
        if (instances == null || !instances.isArray()) {
            throw ApiException.invalidField(INSTANCES, "is required and must be a list of recognitions");
        }
        if (instances.isEmpty()) {
            throw ApiException.invalidField(INSTANCES, "must not be empty");
        }
        if (instances.size() > max) {
            throw ApiException.invalidField(INSTANCES, "has " + instances.size() + " items, the limit is " + max);
        }
        List<RegnoRequest> requests = new ArrayList<>(instances.size());
        for (int i = 0; i < instances.size(); i++) {
            try {
                requests.add(parse(instances.get(i)));
            } catch (ApiException e) {
                throw e.under(INSTANCES + "[" + i + "]");
            }
        }
        return requests;
    }

    /** Parses one recognition object (or a JSON string holding one). */
    public RegnoRequest parse(JsonNode node) {
        JsonNode object = unwrapDoubleEncoded(node);
        return new RegnoRequest(
                plate(object, REGNO_RECOGNIZE),
                plate(object, AFTS_REGNO_AI),
                number(object, RECOGNITION_ACCURACY),
                number(object, AFTS_REGNO_AI_SCORE),
                scores(object, CHAR_SCORES),
                scores(object, LENGTH_SCORES),
                label(object, CAMERA_TYPE),
                label(object, CAMERA_CLASS),
                timeCheck(object),
                direction(object));
    }

    public JsonNode readTree(byte[] body) {
        try {
            JsonNode node = json.readTree(body);
            if (node == null || node.isMissingNode()) {
                throw ApiException.badRequest("request body is empty");
            }
            return node;
        } catch (JacksonException e) {
            throw ApiException.badRequest("malformed JSON body");
        }
    }

    private JsonNode unwrapDoubleEncoded(JsonNode node) {
        if (node.isString()) {
            try {
                node = json.readTree(node.stringValue());
            } catch (JacksonException e) {
                throw ApiException.badRequest("malformed JSON inside the double-encoded body");
            }
        }
        if (node == null || !node.isObject()) {
            throw ApiException.badRequest("body must be a JSON object");
        }
        return node;
    }

    private static JsonNode required(JsonNode object, String field) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            throw ApiException.invalidField(field, "is required");
        }
        return value;
    }

    private static String plate(JsonNode object, String field) {
        return plate(field, string(object, field));
    }

    private static String label(JsonNode object, String field) {
        return label(field, string(object, field));
    }

    private static String string(JsonNode object, String field) {
        JsonNode value = required(object, field);
        if (!value.isString()) {
            throw ApiException.invalidField(field, "must be a string");
        }
        return value.stringValue();
    }

    private static double number(JsonNode object, String field) {
        JsonNode value = required(object, field);
        if (value.isNumber()) {
            return finite(field, value.doubleValue());
        }
        if (value.isString() && JSON_NUMBER.matcher(value.stringValue().trim()).matches()) {
            return finite(field, Double.parseDouble(value.stringValue().trim()));
        }
        throw ApiException.invalidField(field, "must be a number");
    }

    private double[] scores(JsonNode object, String field) {
        JsonNode value = required(object, field);
        if (value.isString()) {
            return scores(field, value.stringValue());
        }
        if (!value.isArray()) {
            throw notScores(field);
        }
        if (value.size() > MAX_SCORES) {
            throw tooManyScores(field);
        }
        double[] scores = new double[value.size()];
        for (int i = 0; i < scores.length; i++) {
            JsonNode item = value.get(i);
            if (!item.isNumber() || !Double.isFinite(item.doubleValue())) {
                throw notFinite(field, i);
            }
            scores[i] = item.doubleValue();
        }
        return scores;
    }

    private static LocalDateTime timeCheck(JsonNode object) {
        return timeCheck(string(object, TIME_CHECK));
    }

    private static int direction(JsonNode object) {
        JsonNode value = required(object, DIRECTION);
        String text = value.isNumber() || value.isString() ? value.asString().trim() : "";
        return switch (text) {
            case "0", "0.0" -> 0;
            case "1", "1.0" -> 1;
            default -> throw directionInvalid();
        };
    }

    // The checks of one field's value, shared by every wire form of a recognition (v1's JSON object, the Open
    // Inference Protocol's tensors): each failure is a 400 naming the field.

    /** A plate as the camera or the neural net read it. */
    static String plate(String field, String plate) {
        if (plate.codePointCount(0, plate.length()) > MAX_PLATE_LENGTH) {
            throw ApiException.invalidField(field, "is longer than " + MAX_PLATE_LENGTH + " characters");
        }
        return plate;
    }

    /** A camera's type or class. */
    static String label(String field, String label) {
        if (label.length() > MAX_LABEL_LENGTH) {
            throw ApiException.invalidField(field, "is longer than " + MAX_LABEL_LENGTH + " characters");
        }
        return label;
    }

    static double finite(String field, double number) {
        if (!Double.isFinite(number)) {
            throw ApiException.invalidField(field, "must be a finite number");
        }
        return number;
    }

    /**
     * A score list written as JSON text, as test_data.csv holds it ({@code "[0.99, 0.87]"}), read as a token stream:
     * no tree is built for the one list of numbers every request carries twice.
     */
    double[] scores(String field, String text) {
        try (JsonParser parser = json.createParser(text)) {
            if (parser.nextToken() != JsonToken.START_ARRAY) {
                throw notScores(field);
            }
            double[] scores = new double[16];
            int count = 0;
            for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
                if (token == null) {
                    throw notScores(field);
                }
                if (count == MAX_SCORES) {
                    throw tooManyScores(field);
                }
                double score = token.isNumeric() ? parser.getDoubleValue() : Double.NaN;
                if (!Double.isFinite(score)) {
                    throw notFinite(field, count);
                }
                if (count == scores.length) {
                    scores = Arrays.copyOf(scores, 2 * count);
                }
                scores[count++] = score;
            }
            if (parser.nextToken() != null) {
                throw notScores(field);
            }
            return Arrays.copyOf(scores, count);
        } catch (JacksonException e) {
            throw notScores(field);
        }
    }

    static LocalDateTime timeCheck(String text) {
        try {
            return LocalDateTime.parse(text, TIME_CHECK_FORMAT);
        } catch (DateTimeParseException e) {
            throw ApiException.invalidField(TIME_CHECK, "must be a date-time like \"2021-08-01 09:02:59\"");
        }
    }

    /** The direction of travel as a number: 0 or 1. */
    static int direction(double direction) {
        if (direction == 0 || direction == 1) {
            return (int) direction;
        }
        throw directionInvalid();
    }

    private static ApiException notScores(String field) {
        return ApiException.invalidField(field, "must be a list of numbers like \"[0.99, 0.87]\"");
    }

    private static ApiException tooManyScores(String field) {
        return ApiException.invalidField(field, "has more than " + MAX_SCORES + " scores");
    }

    private static ApiException notFinite(String field, int item) {
        return ApiException.invalidField(field, "must contain only finite numbers (item " + item + " is not)");
    }

    private static ApiException directionInvalid() {
        return ApiException.invalidField(DIRECTION, "must be 0 or 1");
    }
}

package io.mlgateway.oip;

import io.mlgateway.errors.ApiException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads an inference request body into an {@link InferenceRequest}, enforcing the protocol's structure: what fails
 * here is a 400 whatever the model. Tensor data may be flat or nested; either way it is taken row-major and must
 * hold exactly as many elements as the shape says.
 *
 * <p>The body is read as a token stream, not a JSON tree: a request is mostly tensor elements, and building a node
 * per element (then copying them out) cost the protocol's single-row path more than the rest of its parsing.
 */
@Component
public class InferenceRequestReader {

    private final JsonMapper json;

    public InferenceRequestReader(JsonMapper json) {
        this.json = json;
    }

    public InferenceRequest read(byte[] body) {
        try (JsonParser parser = json.createParser(body)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                throw ApiException.badRequest("request body is empty");
            }
            if (first != JsonToken.START_OBJECT) {
                throw ApiException.badRequest("body must be a JSON object (an inference request)");
            }
            InferenceRequest request = request(parser);
            if (parser.nextToken() != null) {
                throw ApiException.badRequest("malformed JSON body: content after the request object");
            }
            return request;
        } catch (JacksonException e) {
            throw ApiException.badRequest("malformed JSON body");
        }
    }

    private static InferenceRequest request(JsonParser parser) {
        String id = null;
        Map<String, Object> parameters = Map.of();
        List<RequestInput> inputs = null;
        List<String> outputs = List.of();
        while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            switch (field) {
                case "id" -> {
                    if (value == JsonToken.VALUE_STRING) {
                        id = parser.getString();
                    } else if (value != JsonToken.VALUE_NULL) {
                        throw ApiException.badRequest("'id' must be a string");
                    }
                }
                case "parameters" -> parameters = parameters(parser, "parameters");
                case "inputs" -> inputs = inputs(parser);
                case "outputs" -> outputs = outputs(parser);
                default -> parser.skipChildren();
            }
        }
        if (inputs == null) {
            throw ApiException.badRequest("'inputs' is required and must be a list of tensors");
        }
        return new InferenceRequest(id, parameters, inputs, outputs);
    }

    private static List<RequestInput> inputs(JsonParser parser) {
        if (parser.currentToken() != JsonToken.START_ARRAY) {
            throw ApiException.badRequest("'inputs' is required and must be a list of tensors");
        }
        List<RequestInput> inputs = new ArrayList<>();
        Set<String> names = new HashSet<>();
        int index = 0;
        for (JsonToken token = next(parser); token != JsonToken.END_ARRAY; token = next(parser)) {
            RequestInput input = input(parser, index++);
            if (!names.add(input.name())) {
                throw ApiException.badRequest("input '" + input.name() + "' is given twice");
            }
            inputs.add(input);
        }
        return inputs;
    }

    private static RequestInput input(JsonParser parser, int index) {
        String where = "inputs[" + index + "]";
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            throw ApiException.badRequest(where + " must be a tensor object");
        }
        String name = null;
        String datatypeName = null;
        boolean datatypeGiven = false;
        long[] shape = null;
        boolean shapeGiven = false;
        List<Object> data = null;
        boolean dataNotAList = false;
        boolean parametersInvalid = false;
        String problem = null;
        while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            switch (field) {
                case "name" -> name = value == JsonToken.VALUE_STRING ? parser.getString() : null;
                case "datatype" -> {
                    datatypeGiven = true;
                    datatypeName = value == JsonToken.VALUE_STRING ? parser.getString() : null;
                }
                case "shape" -> {
                    shapeGiven = true;
                    shape = shape(parser);
                }
                case "parameters" -> {
                    // Validated once the name is known, so the message can name the input.
                    try {
                        parameters(parser, "parameters");
                    } catch (ApiException e) {
                        parametersInvalid = true;
                        problem = e.getMessage();
                    }
                }
                case "data" -> {
                    if (value == JsonToken.VALUE_NULL) {
                        data = null;
                    } else if (value != JsonToken.START_ARRAY) {
                        dataNotAList = true;
                        parser.skipChildren();
                    } else {
                        data = new ArrayList<>();
                        if (!flatten(parser, data)) {
                            problem = "'data' must hold values or lists of values, not objects";
                        }
                    }
                }
                default -> parser.skipChildren();
            }
        }
        if (name == null || name.isEmpty()) {
            throw ApiException.badRequest(where + ": 'name' is required and must be a non-empty string");
        }
        String at = "input '" + name + "': ";
        Datatype datatype = datatypeGiven ? Datatype.of(datatypeName) : null;
        if (datatype == null) {
            throw ApiException.badRequest(at + "'datatype' is required and must be one of "
                    + Arrays.toString(Datatype.values()));
        }
        if (!shapeGiven || shape == null) {
            throw ApiException.badRequest(at + "'shape' is required and must be a non-empty list of non-negative "
                    + "integers");
        }
        if (parametersInvalid) {
            throw ApiException.badRequest(at + problem);
        }
        if (problem != null) {
            throw ApiException.badRequest(at + problem);
        }
        if (dataNotAList) {
            throw ApiException.badRequest(at + "'data' must be a list");
        }
        if (data == null) {
            throw ApiException.badRequest(at + "'data' is required");
        }
        return RequestInput.of(name, shape, datatype, data.toArray(), "'data'");
    }

    /** The dimensions, or null when they are not a non-empty list of non-negative integers. */
    private static long[] shape(JsonParser parser) {
        if (parser.currentToken() != JsonToken.START_ARRAY) {
            parser.skipChildren();
            return null;
        }
        long[] shape = new long[4];
        int n = 0;
        boolean valid = true;
        for (JsonToken token = next(parser); token != JsonToken.END_ARRAY; token = next(parser)) {
            if (token != JsonToken.VALUE_NUMBER_INT || parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                    || parser.getLongValue() < 0 || parser.getLongValue() > Integer.MAX_VALUE) {
                valid = false;
                parser.skipChildren();
                continue;
            }
            if (n == shape.length) {
                shape = Arrays.copyOf(shape, n * 2);
            }
            shape[n++] = parser.getLongValue();
        }
        return valid && n > 0 ? Arrays.copyOf(shape, n) : null;
    }

    /**
     * Appends the elements of the array the parser is at (nested arrays flattened, row-major) and leaves the parser
     * at its end; false if an element is an object (the rest is still consumed).
     */
    private static boolean flatten(JsonParser parser, List<Object> into) {
        boolean valid = true;
        for (JsonToken token = next(parser); token != JsonToken.END_ARRAY; token = next(parser)) {
            switch (token) {
                case START_ARRAY -> valid &= flatten(parser, into);
                case START_OBJECT -> {
                    parser.skipChildren();
                    valid = false;
                }
                case VALUE_STRING -> into.add(parser.getString());
                case VALUE_NUMBER_INT -> into.add(parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        ? parser.getNumberValue() : (Object) parser.getLongValue());
                case VALUE_NUMBER_FLOAT -> into.add(parser.getDoubleValue());
                case VALUE_TRUE -> into.add(Boolean.TRUE);
                case VALUE_FALSE -> into.add(Boolean.FALSE);
                default -> into.add(null);
            }
        }
        return valid;
    }

    /**
     * The protocol's parameters: an object whose values are strings, numbers or booleans. The object is consumed
     * whole before a bad value is refused, so a caller may go on reading.
     */
    private static Map<String, Object> parameters(JsonParser parser, String where) {
        JsonToken start = parser.currentToken();
        if (start == JsonToken.VALUE_NULL) {
            return Map.of();
        }
        if (start != JsonToken.START_OBJECT) {
            parser.skipChildren();
            throw ApiException.badRequest("'" + where + "' must be an object");
        }
        Map<String, Object> parameters = new LinkedHashMap<>();
        String invalid = null;
        while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
            String name = parser.currentName();
            JsonToken value = parser.nextToken();
            switch (value) {
                case VALUE_STRING -> parameters.put(name, parser.getString());
                case VALUE_TRUE, VALUE_FALSE -> parameters.put(name, value == JsonToken.VALUE_TRUE);
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> parameters.put(name, parser.getNumberValue());
                default -> {
                    parser.skipChildren();
                    invalid = invalid != null ? invalid : name;
                }
            }
        }
        if (invalid != null) {
            throw ApiException.badRequest("parameter '" + invalid + "' in " + where
                    + " must be a string, a number or a boolean");
        }
        return parameters;
    }

    private static List<String> outputs(JsonParser parser) {
        JsonToken start = parser.currentToken();
        if (start == JsonToken.VALUE_NULL) {
            return List.of();
        }
        String shapeOfOutputs = "'outputs' must be a list of {\"name\": …}";
        if (start != JsonToken.START_ARRAY) {
            throw ApiException.badRequest(shapeOfOutputs);
        }
        List<String> names = new ArrayList<>();
        for (JsonToken token = next(parser); token != JsonToken.END_ARRAY; token = next(parser)) {
            if (token != JsonToken.START_OBJECT) {
                throw ApiException.badRequest(shapeOfOutputs);
            }
            String name = null;
            while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if (field.equals("name") && value == JsonToken.VALUE_STRING) {
                    name = parser.getString();
                } else if (field.equals("parameters")) {
                    parameters(parser, "outputs parameters");
                } else {
                    parser.skipChildren();
                }
            }
            if (name == null) {
                throw ApiException.badRequest(shapeOfOutputs);
            }
            names.add(name);
        }
        return names;
    }

    /** The next token; the end of input inside a structure is malformed JSON (the parser usually says so first). */
    private static JsonToken next(JsonParser parser) {
        JsonToken token = parser.nextToken();
        if (token == null) {
            throw ApiException.badRequest("malformed JSON body");
        }
        return token;
    }
}

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
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads an inference request body into an {@link InferenceRequest}, enforcing the protocol's structure: what fails
 * here is a 400 whatever the model. Tensor data may be flat or nested; either way it is taken row-major and must
 * hold exactly as many elements as the shape says.
 */
@Component
public class InferenceRequestReader {

    private final JsonMapper json;

    public InferenceRequestReader(JsonMapper json) {
        this.json = json;
    }

    public InferenceRequest read(byte[] body) {
        JsonNode root;
        try {
            root = json.readTree(body);
        } catch (JacksonException e) {
            throw ApiException.badRequest("malformed JSON body");
        }
        if (root == null || !root.isObject()) {
            throw ApiException.badRequest("body must be a JSON object (an inference request)");
        }
        String id = null;
        JsonNode idNode = root.get("id");
        if (idNode != null && !idNode.isNull()) {
            if (!idNode.isString()) {
                throw ApiException.badRequest("'id' must be a string");
            }
            id = idNode.stringValue();
        }
        Map<String, Object> parameters = parameters(root.get("parameters"), "parameters");
        JsonNode inputsNode = root.get("inputs");
        if (inputsNode == null || !inputsNode.isArray()) {
            throw ApiException.badRequest("'inputs' is required and must be a list of tensors");
        }
        List<RequestInput> inputs = new ArrayList<>(inputsNode.size());
        Set<String> names = new HashSet<>();
        for (int i = 0; i < inputsNode.size(); i++) {
            RequestInput input = input(inputsNode.get(i), i);
            if (!names.add(input.name())) {
                throw ApiException.badRequest("input '" + input.name() + "' is given twice");
            }
            inputs.add(input);
        }
        return new InferenceRequest(id, parameters, inputs, outputs(root.get("outputs")));
    }

    private RequestInput input(JsonNode node, int index) {
        String where = "inputs[" + index + "]";
        if (!node.isObject()) {
            throw ApiException.badRequest(where + " must be a tensor object");
        }
        JsonNode nameNode = node.get("name");
        if (nameNode == null || !nameNode.isString() || nameNode.stringValue().isEmpty()) {
            throw ApiException.badRequest(where + ": 'name' is required and must be a non-empty string");
        }
        String name = nameNode.stringValue();
        String at = "input '" + name + "': ";
        JsonNode datatypeNode = node.get("datatype");
        Datatype datatype = datatypeNode != null && datatypeNode.isString() ? Datatype.of(datatypeNode.stringValue())
                : null;
        if (datatype == null) {
            throw ApiException.badRequest(at + "'datatype' is required and must be one of "
                    + Arrays.toString(Datatype.values()));
        }
        long[] shape = shape(node.get("shape"), at);
        parameters(node.get("parameters"), at + "parameters");
        JsonNode dataNode = node.get("data");
        if (dataNode == null || dataNode.isNull()) {
            throw ApiException.badRequest(at + "'data' is required");
        }
        long expected = 1;
        for (long dimension : shape) {
            expected *= dimension;
            if (expected > Integer.MAX_VALUE) {
                throw ApiException.badRequest(at + "shape " + Arrays.toString(shape) + " is too large");
            }
        }
        List<JsonNode> elements = new ArrayList<>((int) Math.min(expected, 1 << 16));
        flatten(dataNode, elements, expected, at);
        if (elements.size() != expected) {
            throw ApiException.badRequest(at + "shape " + Arrays.toString(shape) + " holds " + expected
                    + " elements, 'data' has " + elements.size());
        }
        return new RequestInput(name, shape, datatype, elements.toArray(JsonNode[]::new));
    }

    private static long[] shape(JsonNode node, String at) {
        if (node == null || !node.isArray() || node.isEmpty()) {
            throw ApiException.badRequest(at + "'shape' is required and must be a non-empty list of dimensions");
        }
        long[] shape = new long[node.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode dimension = node.get(i);
            if (!dimension.isIntegralNumber() || dimension.longValue() < 0 || dimension.longValue() > Integer.MAX_VALUE) {
                throw ApiException.badRequest(at + "'shape' must hold non-negative integers");
            }
            shape[i] = dimension.longValue();
        }
        return shape;
    }

    /** Appends the elements of (possibly nested) {@code data} in row-major order; stops past {@code limit}. */
    private static void flatten(JsonNode data, List<JsonNode> into, long limit, String at) {
        if (!data.isArray()) {
            into.add(data);
            return;
        }
        for (JsonNode element : data) {
            if (into.size() > limit) {
                return; // the count is wrong either way; no need to read more
            }
            if (element.isArray()) {
                flatten(element, into, limit, at);
            } else if (element.isObject()) {
                throw ApiException.badRequest(at + "'data' must hold values or lists of values, not objects");
            } else {
                into.add(element);
            }
        }
    }

    /** The protocol's parameters: an object whose values are strings, numbers or booleans. */
    private static Map<String, Object> parameters(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw ApiException.badRequest("'" + where + "' must be an object");
        }
        Map<String, Object> parameters = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
            JsonNode value = entry.getValue();
            if (value.isString()) {
                parameters.put(entry.getKey(), value.stringValue());
            } else if (value.isBoolean()) {
                parameters.put(entry.getKey(), value.booleanValue());
            } else if (value.isNumber()) {
                parameters.put(entry.getKey(), value.numberValue());
            } else {
                throw ApiException.badRequest("parameter '" + entry.getKey() + "' in " + where
                        + " must be a string, a number or a boolean");
            }
        }
        return parameters;
    }

    private static List<String> outputs(JsonNode node) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw ApiException.badRequest("'outputs' must be a list of {\"name\": …}");
        }
        List<String> names = new ArrayList<>(node.size());
        for (JsonNode output : node) {
            JsonNode name = output.isObject() ? output.get("name") : null;
            if (name == null || !name.isString()) {
                throw ApiException.badRequest("'outputs' must be a list of {\"name\": …}");
            }
            parameters(output.get("parameters"), "outputs parameters");
            names.add(name.stringValue());
        }
        return names;
    }
}

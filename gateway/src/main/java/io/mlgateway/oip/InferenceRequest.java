package io.mlgateway.oip;

import io.mlgateway.errors.ApiException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A validated inference request: well-formed tensors (names unique, shapes non-negative, element counts matching),
 * scalar parameters, and the names of the outputs asked for (empty: all).
 *
 * @param id the client's id, or null
 */
public record InferenceRequest(String id, Map<String, Object> parameters, List<RequestInput> inputs,
        List<String> outputs) {

    /** The input called {@code name}; a 400 if the request has none. */
    public RequestInput input(String name) {
        for (RequestInput input : inputs) {
            if (input.name().equals(name)) {
                return input;
            }
        }
        throw ApiException.badRequest("input '" + name + "' is missing");
    }

    /** Refuses inputs the model does not take, so a misspelt name is not silently ignored. */
    public void onlyInputs(Set<String> known) {
        for (RequestInput input : inputs) {
            if (!known.contains(input.name())) {
                throw ApiException.badRequest("input '" + input.name() + "' is not an input of this model; it takes "
                        + known);
            }
        }
    }

    /** The batch size every input agrees on, between 1 and {@code max}. */
    public int rows(int max) {
        if (inputs.isEmpty()) {
            throw ApiException.badRequest("the request has no inputs");
        }
        int rows = inputs.get(0).rows();
        for (RequestInput input : inputs) {
            if (input.rows() != rows) {
                throw ApiException.badRequest("inputs disagree on the batch size: '" + inputs.get(0).name() + "' has "
                        + rows + " rows, '" + input.name() + "' has " + input.rows());
            }
        }
        if (rows < 1) {
            throw ApiException.badRequest("the batch is empty: inputs have 0 rows");
        }
        if (rows > max) {
            throw ApiException.badRequest("the batch has " + rows + " rows, the limit is " + max);
        }
        return rows;
    }

    public Optional<String> stringParameter(String name) {
        Object value = parameters.get(name);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof String text)) {
            throw ApiException.badRequest("parameter '" + name + "' must be a string");
        }
        return Optional.of(text);
    }

    public boolean booleanParameter(String name) {
        Object value = parameters.get(name);
        if (value == null) {
            return false;
        }
        if (!(value instanceof Boolean flag)) {
            throw ApiException.badRequest("parameter '" + name + "' must be true or false");
        }
        return flag;
    }
}

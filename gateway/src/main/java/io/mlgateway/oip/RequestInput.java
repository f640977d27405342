package io.mlgateway.oip;

import io.mlgateway.errors.ApiException;
import java.math.BigInteger;
import java.util.Arrays;

/**
 * One input tensor of a request: its shape, datatype and elements (row-major, flattened; their count already checked
 * against the shape). Element accessors check each element against the datatype, so a model adapter reads values
 * and every mismatch is a 400 naming this input.
 */
public final class RequestInput {

    private final String name;
    private final long[] shape;
    private final Datatype datatype;
    /** Each element as read: String, Long, BigInteger, Double, BigDecimal, Boolean or null. */
    private final Object[] data;

    private RequestInput(String name, long[] shape, Datatype datatype, Object[] data) {
        this.name = name;
        this.shape = shape;
        this.datatype = datatype;
        this.data = data;
    }

    /**
     * A tensor as a transport read it; a 400 naming it unless {@code data} holds exactly the elements its shape
     * says. {@code field} is where the elements came from, as the client knows it ({@code 'data'} in JSON).
     */
    public static RequestInput of(String name, long[] shape, Datatype datatype, Object[] data, String field) {
        long expected = elements(name, shape);
        if (data.length != expected) {
            throw ApiException.badRequest("input '" + name + "': shape " + Arrays.toString(shape) + " holds "
                    + expected + " elements, " + field + " has " + data.length);
        }
        return new RequestInput(name, shape, datatype, data);
    }

    /** How many elements {@code shape} holds; a 400 naming the input when that is more than an array can. */
    public static int elements(String name, long[] shape) {
        long expected = 1;
        for (long dimension : shape) {
            expected *= dimension;
            if (expected > Integer.MAX_VALUE) {
                throw ApiException.badRequest("input '" + name + "': shape " + Arrays.toString(shape)
                        + " is too large");
            }
        }
        return (int) expected;
    }

    public String name() {
        return name;
    }

    public Datatype datatype() {
        return datatype;
    }

    public long[] shape() {
        return shape.clone();
    }

    /** The batch size: the first dimension. */
    public int rows() {
        return (int) shape[0];
    }

    /**
     * Requires the shape to match {@code expected} ({@code -1}: any size), where a trailing dimension of 1 may also be
     * left out when {@code expected} is {@code [-1]} (both {@code [N]} and {@code [N, 1]} are one value per row).
     */
    public RequestInput requireShape(long... expected) {
        boolean column = expected.length == 1 && shape.length == 2 && shape[1] == 1;
        boolean matches = column || shape.length == expected.length;
        for (int i = 0; matches && i < expected.length; i++) {
            matches = expected[i] < 0 || shape[i] == expected[i];
        }
        if (!matches) {
            throw invalid("shape " + Arrays.toString(shape) + " does not match " + Arrays.toString(expected));
        }
        return this;
    }

    /** Requires a numeric datatype (any of the protocol's integer or floating-point types). */
    public RequestInput requireNumeric(Datatype declared) {
        if (!datatype.numeric()) {
            throw invalid("datatype " + datatype + " is not accepted; send " + declared + " (any numeric type is)");
        }
        return this;
    }

    public RequestInput requireDatatype(Datatype required) {
        if (datatype != required) {
            throw invalid("datatype " + datatype + " is not accepted; send " + required);
        }
        return this;
    }

    /** Element {@code index} of a numeric tensor. */
    public double number(int index) {
        if (!(data[index] instanceof Number element)) {
            throw invalid("element " + index + " is not a number");
        }
        double value = element.doubleValue();
        boolean integral = element instanceof Long || element instanceof BigInteger;
        if (datatype.integral() && !integral && value != Math.rint(value)) {
            throw invalid("element " + index + " is not an integer, as " + datatype + " requires");
        }
        if (!Double.isFinite(value)) {
            throw invalid("element " + index + " is not finite");
        }
        return value;
    }

    /** Element {@code index} of a BYTES tensor, as the string the JSON carries. */
    public String string(int index) {
        if (!(data[index] instanceof String element)) {
            throw invalid("element " + index + " is not a string, as BYTES requires");
        }
        return element;
    }

    /** A 400 naming this input. */
    public ApiException invalid(String problem) {
        return new ApiException(org.springframework.http.HttpStatus.BAD_REQUEST, "input '" + name + "': " + problem,
                name);
    }
}

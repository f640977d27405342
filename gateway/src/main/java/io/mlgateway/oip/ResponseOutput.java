package io.mlgateway.oip;

/**
 * One output tensor of a response. {@code data} is the flat row-major array (float[], double[], long[] or String[]),
 * serialized as a JSON array.
 */
public record ResponseOutput(String name, long[] shape, String datatype, Object data) {

    public static ResponseOutput of(String name, Datatype datatype, Object data, long... shape) {
        return new ResponseOutput(name, shape, datatype.name(), data);
    }
}

package io.mlgateway.oip;

import java.util.List;

/** A model input or output as its metadata describes it; -1 marks a dimension of any size (the batch). */
public record TensorMetadata(String name, String datatype, List<Long> shape) {

    public static TensorMetadata of(String name, Datatype datatype, long... shape) {
        return new TensorMetadata(name, datatype.name(), java.util.Arrays.stream(shape).boxed().toList());
    }
}

package io.mlgateway.oip;

import java.util.List;

/** The protocol's model metadata response. */
public record ModelMetadata(String name, List<String> versions, String platform, List<TensorMetadata> inputs,
        List<TensorMetadata> outputs) {
}

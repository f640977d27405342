package io.mlgateway.grpc;

import com.google.protobuf.ByteString;
import io.mlgateway.grpc.v2.InferParameter;
import io.mlgateway.grpc.v2.InferTensorContents;
import io.mlgateway.grpc.v2.ModelInferResponse;
import io.mlgateway.grpc.v2.ModelMetadataResponse;
import io.mlgateway.grpc.v2.ServerMetadataResponse;
import io.mlgateway.oip.DataPlane;
import io.mlgateway.oip.InferenceResponse;
import io.mlgateway.oip.ModelMetadata;
import io.mlgateway.oip.ResponseOutput;
import io.mlgateway.oip.TensorMetadata;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The data plane's answers as the protocol's gRPC messages. Outputs travel typed (each in the contents field of its
 * datatype) or, when the request sent raw tensors, raw ({@code raw_output_contents}, little-endian), as Triton
 * answers raw requests.
 */
final class GrpcResponses {

    private GrpcResponses() {
    }

    static ServerMetadataResponse server(DataPlane.ServerMetadata metadata) {
        return ServerMetadataResponse.newBuilder().setName(metadata.name()).setVersion(metadata.version())
                .addAllExtensions(metadata.extensions()).build();
    }

    static ModelMetadataResponse metadata(ModelMetadata metadata) {
        ModelMetadataResponse.Builder builder = ModelMetadataResponse.newBuilder().setName(metadata.name())
                .addAllVersions(metadata.versions()).setPlatform(metadata.platform());
        metadata.inputs().forEach(tensor -> builder.addInputs(tensor(tensor)));
        metadata.outputs().forEach(tensor -> builder.addOutputs(tensor(tensor)));
        return builder.build();
    }

    private static ModelMetadataResponse.TensorMetadata tensor(TensorMetadata tensor) {
        return ModelMetadataResponse.TensorMetadata.newBuilder().setName(tensor.name())
                .setDatatype(tensor.datatype()).addAllShape(tensor.shape()).build();
    }

    static ModelInferResponse infer(InferenceResponse response, boolean raw) {
        ModelInferResponse.Builder builder = ModelInferResponse.newBuilder().setModelName(response.modelName())
                .setModelVersion(response.modelVersion()).setId(response.id());
        if (response.parameters() != null) {
            builder.putAllParameters(parameters(response.parameters()));
        }
        for (ResponseOutput output : response.outputs()) {
            ModelInferResponse.InferOutputTensor.Builder tensor = ModelInferResponse.InferOutputTensor.newBuilder()
                    .setName(output.name()).setDatatype(output.datatype());
            for (long dimension : output.shape()) {
                tensor.addShape(dimension);
            }
            if (raw) {
                builder.addRawOutputContents(raw(output.data()));
            } else {
                tensor.setContents(contents(output.data()));
            }
            builder.addOutputs(tensor);
        }
        return builder.build();
    }

    static Map<String, InferParameter> parameters(Map<String, Object> parameters) {
        Map<String, InferParameter> converted = new LinkedHashMap<>();
        parameters.forEach((name, value) -> converted.put(name, parameter(value)));
        return converted;
    }

    private static InferParameter parameter(Object value) {
        InferParameter.Builder parameter = InferParameter.newBuilder();
        if (value instanceof Boolean flag) {
            parameter.setBoolParam(flag);
        } else if (value instanceof Long || value instanceof Integer) {
            parameter.setInt64Param(((Number) value).longValue());
        } else if (value instanceof Number number) {
            parameter.setDoubleParam(number.doubleValue());
        } else {
            parameter.setStringParam(String.valueOf(value));
        }
        return parameter.build();
    }

    /** The array types {@link ResponseOutput} holds, in their contents fields. */
    private static InferTensorContents contents(Object data) {
        InferTensorContents.Builder contents = InferTensorContents.newBuilder();
        if (data instanceof float[] values) {
            for (float value : values) {
                contents.addFp32Contents(value);
            }
        } else if (data instanceof double[] values) {
            for (double value : values) {
                contents.addFp64Contents(value);
            }
        } else if (data instanceof long[] values) {
            for (long value : values) {
                contents.addInt64Contents(value);
            }
        } else if (data instanceof String[] values) {
            for (String value : values) {
                contents.addBytesContents(ByteString.copyFromUtf8(value));
            }
        } else {
            throw new IllegalArgumentException("no contents field for " + data.getClass().getSimpleName());
        }
        return contents.build();
    }

    private static ByteString raw(Object data) {
        ByteBuffer buffer;
        if (data instanceof float[] values) {
            buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            buffer.asFloatBuffer().put(values);
        } else if (data instanceof double[] values) {
            buffer = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            buffer.asDoubleBuffer().put(values);
        } else if (data instanceof long[] values) {
            buffer = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            buffer.asLongBuffer().put(values);
        } else if (data instanceof String[] values) {
            byte[][] encoded = new byte[values.length][];
            int size = 0;
            for (int i = 0; i < values.length; i++) {
                encoded[i] = values[i].getBytes(StandardCharsets.UTF_8);
                size += 4 + encoded[i].length;
            }
            buffer = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
            for (byte[] element : encoded) {
                buffer.putInt(element.length).put(element);
            }
            buffer.flip();
        } else {
            throw new IllegalArgumentException("no raw form for " + data.getClass().getSimpleName());
        }
        return ByteString.copyFrom(buffer.array());
    }
}

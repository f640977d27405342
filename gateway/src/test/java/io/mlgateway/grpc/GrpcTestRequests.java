package io.mlgateway.grpc;

import com.google.protobuf.ByteString;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.mlgateway.grpc.v2.GRPCInferenceServiceGrpc;
import io.mlgateway.grpc.v2.InferParameter;
import io.mlgateway.grpc.v2.InferTensorContents;
import io.mlgateway.grpc.v2.ModelInferRequest;
import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.training.BikeSharingData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** gRPC requests for the tests, built from the same rows as the REST tests' (test_data.csv, hour.csv). */
public final class GrpcTestRequests {

    /** The ten regno inputs, in the order of test_data.csv's columns. */
    public static final List<String> REGNO_INPUTS = List.of("regno_recognize", "afts_regno_ai",
            "recognition_accuracy", "afts_regno_ai_score", "afts_regno_ai_char_scores", "afts_regno_ai_length_scores",
            "camera_type", "camera_class", "time_check", "direction");

    private GrpcTestRequests() {
    }

    /** A stub that sends {@code pairs} (key, value, ...) as metadata with every call. */
    public static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub withMetadata(
            GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub, String... pairs) {
        Metadata metadata = new Metadata();
        for (int i = 0; i < pairs.length; i += 2) {
            metadata.put(Metadata.Key.of(pairs[i], Metadata.ASCII_STRING_MARSHALLER), pairs[i + 1]);
        }
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata));
    }

    public static String regnoDatatype(String name) {
        return switch (name) {
            case "recognition_accuracy", "afts_regno_ai_score" -> "FP64";
            case "direction" -> "INT64";
            default -> "BYTES";
        };
    }

    /** A regno ModelInfer for {@code rows}: the ten inputs of shape [N], typed or in raw_input_contents. */
    public static ModelInferRequest.Builder regno(List<Map<String, String>> rows, boolean raw) {
        ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName("regno");
        for (String name : REGNO_INPUTS) {
            String datatype = regnoDatatype(name);
            ModelInferRequest.InferInputTensor.Builder tensor = ModelInferRequest.InferInputTensor.newBuilder()
                    .setName(name).setDatatype(datatype).addShape(rows.size());
            InferTensorContents.Builder contents = InferTensorContents.newBuilder();
            ByteBuffer buffer = ByteBuffer.allocate(64 * 1024).order(ByteOrder.LITTLE_ENDIAN);
            for (Map<String, String> row : rows) {
                String value = row.get(name);
                switch (datatype) {
                    case "FP64" -> {
                        contents.addFp64Contents(Double.parseDouble(value));
                        buffer.putDouble(Double.parseDouble(value));
                    }
                    case "INT64" -> {
                        contents.addInt64Contents(Long.parseLong(value));
                        buffer.putLong(Long.parseLong(value));
                    }
                    default -> {
                        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
                        contents.addBytesContents(ByteString.copyFrom(utf8));
                        buffer.putInt(utf8.length).put(utf8);
                    }
                }
            }
            if (raw) {
                buffer.flip();
                request.addRawInputContents(ByteString.copyFrom(buffer));
            } else {
                tensor.setContents(contents);
            }
            request.addInputs(tensor);
        }
        return request;
    }

    private static ModelInferRequest.Builder rentals(String user) {
        return ModelInferRequest.newBuilder().setModelName("rentals")
                .putParameters("user_id", InferParameter.newBuilder().setStringParam(user).build());
    }

    /** A rentals ModelInfer for {@code user}: features FP32 [N, 12] in fp32_contents. */
    public static ModelInferRequest rentalsTyped(String user, List<BikeSharingData.Hour> rows) {
        InferTensorContents.Builder contents = InferTensorContents.newBuilder();
        rows.forEach(hour -> {
            for (float value : hour.features()) {
                contents.addFp32Contents(value);
            }
        });
        return rentals(user).addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("features")
                .setDatatype("FP32").addShape(rows.size()).addShape(RentalFeatures.COUNT).setContents(contents))
                .build();
    }

    /** The same in raw_input_contents (little-endian floats). */
    public static ModelInferRequest rentalsRaw(String user, List<BikeSharingData.Hour> rows) {
        ByteBuffer buffer = ByteBuffer.allocate(rows.size() * RentalFeatures.COUNT * 4).order(ByteOrder.LITTLE_ENDIAN);
        rows.forEach(hour -> {
            for (float value : hour.features()) {
                buffer.putFloat(value);
            }
        });
        buffer.flip();
        return rentals(user).addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("features")
                .setDatatype("FP32").addShape(rows.size()).addShape(RentalFeatures.COUNT))
                .addRawInputContents(ByteString.copyFrom(buffer)).build();
    }
}

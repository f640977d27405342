package io.mlgateway.grpc;

import com.google.protobuf.ByteString;
import io.mlgateway.errors.ApiException;
import io.mlgateway.grpc.v2.InferParameter;
import io.mlgateway.grpc.v2.InferTensorContents;
import io.mlgateway.grpc.v2.ModelInferRequest;
import io.mlgateway.oip.Datatype;
import io.mlgateway.oip.InferenceRequest;
import io.mlgateway.oip.RequestInput;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@link ModelInferRequest} as the data plane's {@link InferenceRequest}: the same checks and messages as the
 * JSON reader's, naming the protobuf fields where JSON's would name its own. Elements come either typed (each
 * input's {@code contents}, in the field of its datatype) or raw ({@code raw_input_contents}, one little-endian
 * buffer per input), never both.
 */
final class GrpcRequests {

    private GrpcRequests() {
    }

    static InferenceRequest inference(ModelInferRequest request) {
        int raw = request.getRawInputContentsCount();
        if (raw > 0 && raw != request.getInputsCount()) {
            throw ApiException.badRequest("raw_input_contents has " + raw + " entries for " + request.getInputsCount()
                    + " inputs; send one per input, in the order of inputs");
        }
        List<RequestInput> inputs = new ArrayList<>(request.getInputsCount());
        Set<String> names = new HashSet<>();
        for (int i = 0; i < request.getInputsCount(); i++) {
            ModelInferRequest.InferInputTensor tensor = request.getInputs(i);
            RequestInput input = raw > 0 ? rawInput(tensor, i, request.getRawInputContents(i)) : typedInput(tensor, i);
            if (!names.add(input.name())) {
                throw ApiException.badRequest("input '" + input.name() + "' is given twice");
            }
            inputs.add(input);
        }
        if (inputs.isEmpty()) {
            throw ApiException.badRequest("'inputs' is required and must be a list of tensors");
        }
        List<String> outputs = request.getOutputsList().stream()
                .map(ModelInferRequest.InferRequestedOutputTensor::getName).toList();
        String id = request.getId().isEmpty() ? null : request.getId();
        return new InferenceRequest(id, parameters(request.getParametersMap()), inputs, outputs);
    }

    /** Whether the request sent its tensors raw: the response then answers in raw_output_contents too. */
    static boolean raw(ModelInferRequest request) {
        return request.getRawInputContentsCount() > 0;
    }

    static Map<String, Object> parameters(Map<String, InferParameter> parameters) {
        if (parameters.isEmpty()) {
            return Map.of();
        }
        Map<String, Object> values = new LinkedHashMap<>();
        parameters.forEach((name, parameter) -> values.put(name, switch (parameter.getParameterChoiceCase()) {
            case BOOL_PARAM -> parameter.getBoolParam();
            case INT64_PARAM -> parameter.getInt64Param();
            case STRING_PARAM -> parameter.getStringParam();
            case DOUBLE_PARAM -> parameter.getDoubleParam();
            case UINT64_PARAM -> unsigned(parameter.getUint64Param());
            case PARAMETERCHOICE_NOT_SET -> throw ApiException.badRequest("parameter '" + name
                    + "' in parameters must be a string, a number or a boolean");
        }));
        return values;
    }

    private static Datatype datatype(ModelInferRequest.InferInputTensor tensor, int index) {
        if (tensor.getName().isEmpty()) {
            throw ApiException.badRequest("inputs[" + index + "]: 'name' is required and must be a non-empty string");
        }
        Datatype datatype = Datatype.of(tensor.getDatatype());
        if (datatype == null) {
            throw ApiException.badRequest("input '" + tensor.getName() + "': 'datatype' is required and must be one of "
                    + Arrays.toString(Datatype.values()));
        }
        if (tensor.getShapeCount() == 0 || tensor.getShapeList().stream().anyMatch(d -> d < 0 || d > Integer.MAX_VALUE)) {
            throw ApiException.badRequest("input '" + tensor.getName() + "': 'shape' is required and must be a "
                    + "non-empty list of non-negative integers");
        }
        return datatype;
    }

    private static long[] shape(ModelInferRequest.InferInputTensor tensor) {
        return tensor.getShapeList().stream().mapToLong(Long::longValue).toArray();
    }

    private static RequestInput typedInput(ModelInferRequest.InferInputTensor tensor, int index) {
        Datatype datatype = datatype(tensor, index);
        String name = tensor.getName();
        InferTensorContents contents = tensor.getContents();
        String field = field(datatype);
        if (datatype == Datatype.FP16) {
            throw ApiException.badRequest("input '" + name + "': FP16 has no typed contents field; send it in "
                    + "raw_input_contents");
        }
        if (others(contents, datatype) > 0) {
            throw ApiException.badRequest("input '" + name + "': datatype " + datatype + " takes its elements in "
                    + "contents." + field);
        }
        Object[] data = switch (datatype) {
            case BOOL -> contents.getBoolContentsList().toArray();
            case INT8, INT16, INT32 -> contents.getIntContentsList().stream().map(Integer::longValue).toArray();
            case INT64 -> contents.getInt64ContentsList().toArray();
            case UINT8, UINT16, UINT32 -> contents.getUintContentsList().stream()
                    .map(v -> Integer.toUnsignedLong(v)).toArray();
            case UINT64 -> contents.getUint64ContentsList().stream().map(GrpcRequests::unsigned).toArray();
            case FP32 -> contents.getFp32ContentsList().stream().map(Float::doubleValue).toArray();
            case FP64 -> contents.getFp64ContentsList().toArray();
            case BYTES -> contents.getBytesContentsList().stream().map(b -> b.toString(StandardCharsets.UTF_8))
                    .toArray();
            case FP16 -> throw new IllegalStateException("refused above");
        };
        return RequestInput.of(name, shape(tensor), datatype, data, "contents." + field);
    }

    private static RequestInput rawInput(ModelInferRequest.InferInputTensor tensor, int index, ByteString bytes) {
        Datatype datatype = datatype(tensor, index);
        String name = tensor.getName();
        if (tensor.hasContents()) {
            throw ApiException.badRequest("input '" + name + "': contents and raw_input_contents are both given; "
                    + "send one");
        }
        long[] shape = shape(tensor);
        int n = RequestInput.elements(name, shape);
        ByteBuffer buffer = bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        if (datatype == Datatype.BYTES) {
            return RequestInput.of(name, shape, datatype, strings(name, buffer, n), "raw_input_contents[" + index + "]");
        }
        int width = width(datatype);
        if ((long) n * width != buffer.remaining()) {
            throw ApiException.badRequest("input '" + name + "': shape " + Arrays.toString(shape) + " of " + datatype
                    + " takes " + (long) n * width + " bytes, raw_input_contents[" + index + "] has "
                    + buffer.remaining());
        }
        Object[] data = new Object[n];
        for (int i = 0; i < n; i++) {
            data[i] = switch (datatype) {
                case BOOL -> buffer.get() != 0;
                case INT8 -> (long) buffer.get();
                case UINT8 -> (long) Byte.toUnsignedInt(buffer.get());
                case INT16 -> (long) buffer.getShort();
                case UINT16 -> (long) Short.toUnsignedInt(buffer.getShort());
                case INT32 -> (long) buffer.getInt();
                case UINT32 -> Integer.toUnsignedLong(buffer.getInt());
                case INT64 -> buffer.getLong();
                case UINT64 -> unsigned(buffer.getLong());
                case FP16 -> (double) halfToFloat(buffer.getShort());
                case FP32 -> (double) buffer.getFloat();
                case FP64 -> buffer.getDouble();
                case BYTES -> throw new IllegalStateException("read above");
            };
        }
        return RequestInput.of(name, shape, datatype, data, "raw_input_contents[" + index + "]");
    }

    /** BYTES elements raw: each a 4-byte little-endian length, then that many bytes (taken as UTF-8). */
    private static Object[] strings(String name, ByteBuffer buffer, int n) {
        List<Object> strings = new ArrayList<>(n);
        while (buffer.hasRemaining()) {
            if (buffer.remaining() < 4) {
                throw ApiException.badRequest("input '" + name + "': raw BYTES end inside an element's length");
            }
            int length = buffer.getInt();
            if (length < 0 || length > buffer.remaining()) {
                throw ApiException.badRequest("input '" + name + "': raw BYTES element " + strings.size()
                        + " claims " + Integer.toUnsignedString(length) + " bytes, " + buffer.remaining() + " remain");
            }
            byte[] element = new byte[length];
            buffer.get(element);
            strings.add(new String(element, StandardCharsets.UTF_8));
        }
        return strings.toArray();
    }

    private static int width(Datatype datatype) {
        return switch (datatype) {
            case BOOL, INT8, UINT8 -> 1;
            case INT16, UINT16, FP16 -> 2;
            case INT32, UINT32, FP32 -> 4;
            case INT64, UINT64, FP64 -> 8;
            case BYTES -> throw new IllegalArgumentException("BYTES elements have no fixed width");
        };
    }

    /** The typed contents field a datatype's elements travel in. */
    static String field(Datatype datatype) {
        return switch (datatype) {
            case BOOL -> "bool_contents";
            case INT8, INT16, INT32 -> "int_contents";
            case INT64 -> "int64_contents";
            case UINT8, UINT16, UINT32 -> "uint_contents";
            case UINT64 -> "uint64_contents";
            case FP16 -> "raw_input_contents";
            case FP32 -> "fp32_contents";
            case FP64 -> "fp64_contents";
            case BYTES -> "bytes_contents";
        };
    }

    /** Elements in contents fields other than the datatype's own. */
    private static int others(InferTensorContents c, Datatype datatype) {
        String own = field(datatype);
        int count = 0;
        count += own.equals("bool_contents") ? 0 : c.getBoolContentsCount();
        count += own.equals("int_contents") ? 0 : c.getIntContentsCount();
        count += own.equals("int64_contents") ? 0 : c.getInt64ContentsCount();
        count += own.equals("uint_contents") ? 0 : c.getUintContentsCount();
        count += own.equals("uint64_contents") ? 0 : c.getUint64ContentsCount();
        count += own.equals("fp32_contents") ? 0 : c.getFp32ContentsCount();
        count += own.equals("fp64_contents") ? 0 : c.getFp64ContentsCount();
        count += own.equals("bytes_contents") ? 0 : c.getBytesContentsCount();
        return count;
    }

    /** A uint64 as a number: a Long while it fits, a BigInteger above. */
    private static Object unsigned(long value) {
        return value >= 0 ? (Object) value : new BigInteger(Long.toUnsignedString(value));
    }

    /** IEEE 754 binary16 to float (Float.float16ToFloat is Java 20; this build targets 17). */
    static float halfToFloat(short bits) {
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1F;
        int mantissa = bits & 0x3FF;
        if (exponent == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            float value = mantissa * 0x1p-24f;
            return sign != 0 ? -value : value;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}

package io.mlgateway.oip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlgateway.errors.ApiException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** The protocol's request structure, checked before any model sees it. */
class InferenceRequestReaderTest {

    private final InferenceRequestReader reader = new InferenceRequestReader(JsonMapper.builder().build());

    private InferenceRequest read(String json) {
        return reader.read(json.getBytes(StandardCharsets.UTF_8));
    }

    private void refused(String json, String message) {
        assertThatThrownBy(() -> read(json)).isInstanceOf(ApiException.class).hasMessageContaining(message)
                .satisfies(e -> assertThat(((ApiException) e).status().value()).isEqualTo(400));
    }

    @Test
    void nestedAndFlatDataAreTheSameRowMajorTensor() {
        InferenceRequest flat = read("""
                {"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6]}]}""");
        InferenceRequest nested = read("""
                {"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[[1,2,3],[4,5,6]]}]}""");
        for (InferenceRequest request : List.of(flat, nested)) {
            RequestInput x = request.input("x");
            assertThat(x.rows()).isEqualTo(2);
            assertThat(x.number(0)).isEqualTo(1.0);
            assertThat(x.number(4)).isEqualTo(5.0);
            assertThat(x.number(5)).isEqualTo(6.0);
        }
    }

    @Test
    void fieldsMayComeInAnyOrderAndUnknownOnesAreIgnored() {
        InferenceRequest request = read("""
                {"extra":{"deep":[1,{"x":2}]},"inputs":[{"data":[[7],[8]],"datatype":"INT64","note":"x","shape":[2,1],
                 "name":"x"}],"id":"r"}""");
        assertThat(request.id()).isEqualTo("r");
        assertThat(request.input("x").rows()).isEqualTo(2);
        assertThat(request.input("x").number(1)).isEqualTo(8.0);
    }

    @Test
    void idParametersAndRequestedOutputsAreRead() {
        InferenceRequest request = read("""
                {"id":"r-1","parameters":{"user_id":"alice","explain":true,"n":3},
                 "inputs":[{"name":"x","shape":[1],"datatype":"BYTES","data":["a"]}],
                 "outputs":[{"name":"predictions"}]}""");
        assertThat(request.id()).isEqualTo("r-1");
        assertThat(request.parameters()).containsEntry("user_id", "alice").containsEntry("explain", true);
        assertThat(request.stringParameter("user_id")).contains("alice");
        assertThat(request.booleanParameter("explain")).isTrue();
        assertThat(request.outputs()).containsExactly("predictions");
        assertThat(request.input("x").string(0)).isEqualTo("a");
        assertThat(read("""
                {"inputs":[{"name":"x","shape":[1],"datatype":"BYTES","data":["a"]}]}""").parameters()).isEqualTo(Map.of());
    }

    @Test
    void malformedRequestsAreRefusedNamingWhatIsWrong() {
        refused("{", "malformed JSON");
        refused("[]", "must be a JSON object");
        refused("{}", "'inputs' is required");
        refused("{\"inputs\":{}}", "'inputs' is required and must be a list");
        refused("{\"id\":5,\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}",
                "'id' must be a string");
        refused("{\"parameters\":{\"user\":{\"a\":1}},\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\","
                + "\"data\":[1]}]}", "parameter 'user'");
        refused("{\"inputs\":[{\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}", "inputs[0]: 'name' is required");
        refused("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FLOAT\",\"data\":[1]}]}",
                "input 'x': 'datatype' is required and must be one of");
        refused("{\"inputs\":[{\"name\":\"x\",\"shape\":[-1],\"datatype\":\"FP32\",\"data\":[1]}]}",
                "input 'x': 'shape' is required and must be a non-empty list of non-negative integers");
        refused("{\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}",
                "input 'x': shape [2, 2] holds 4 elements, 'data' has 3");
        refused("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\"}]}", "input 'x': 'data' is required");
        refused("{\"inputs\":[{\"name\":\"x\",\"shape\":[100000,100000],\"datatype\":\"FP32\",\"data\":[1]}]}",
                "is too large");
        refused("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]},"
                + "{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}", "given twice");
        refused("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}],\"outputs\":[\"y\"]}",
                "'outputs' must be a list");
        refused("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[{\"v\":1}]}]}",
                "input 'x': 'data' must hold values or lists of values, not objects");
        refused("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":1}]}",
                "input 'x': 'data' must be a list");
        refused("{\"inputs\":[{\"parameters\":{\"p\":[1]},\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\","
                + "\"data\":[1]}]}", "input 'x': parameter 'p' in parameters must be");
        refused("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]} {}", "malformed JSON");
        refused("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1,", "malformed JSON");
        refused("", "empty");
    }

    @Test
    void elementsAreCheckedAgainstTheDatatypeAndShapesAgainstTheModel() {
        InferenceRequest request = read("""
                {"inputs":[{"name":"x","shape":[2,1],"datatype":"INT64","data":[1, 2.5]},
                           {"name":"s","shape":[2],"datatype":"BYTES","data":["a", 3]},
                           {"name":"y","shape":[3],"datatype":"FP64","data":[1,2,3]}]}""");
        RequestInput x = request.input("x").requireShape(-1);
        assertThat(x.number(0)).isEqualTo(1.0);
        assertThatThrownBy(() -> x.number(1)).hasMessage("input 'x': element 1 is not an integer, as INT64 requires");
        assertThatThrownBy(() -> request.input("s").string(1)).hasMessage("input 's': element 1 is not a string, as BYTES requires");
        assertThatThrownBy(() -> request.input("s").number(0)).hasMessage("input 's': element 0 is not a number");
        assertThatThrownBy(() -> request.input("s").requireNumeric(Datatype.FP32)).hasMessageContaining("datatype BYTES is not accepted");
        assertThatThrownBy(() -> x.requireShape(-1, 12)).hasMessage("input 'x': shape [2, 1] does not match [-1, 12]");
        assertThatThrownBy(() -> request.input("missing")).hasMessage("input 'missing' is missing");
        assertThatThrownBy(() -> request.rows(10)).hasMessageContaining("inputs disagree on the batch size");
        assertThatThrownBy(() -> request.onlyInputs(java.util.Set.of("x", "s"))).hasMessageContaining("input 'y' is not an input");
    }
}

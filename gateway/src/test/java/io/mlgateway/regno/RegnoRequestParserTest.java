package io.mlgateway.regno;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlgateway.errors.ApiException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

class RegnoRequestParserTest {

    private final JsonMapper json = JsonMapper.builder().build();
    private final RegnoRequestParser parser = new RegnoRequestParser(json);

    static ObjectNode validRow(JsonMapper json) {
        ObjectNode row = json.createObjectNode();
        row.put("regno_recognize", "А939НО196");
        row.put("afts_regno_ai", "А939НО190");
        row.put("recognition_accuracy", 6.4);
        row.put("afts_regno_ai_score", 0.8689166903495789);
        row.put("afts_regno_ai_char_scores", "[0.99, 0.87, 1.0]");
        row.put("afts_regno_ai_length_scores", "[3.2e-10, 1.0]");
        row.put("camera_type", "Стационарная");
        row.put("camera_class", "Астра-Трафик");
        row.put("time_check", "2021-08-01 09:02:59");
        row.put("direction", 0);
        return row;
    }

    private RegnoRequest parse(ObjectNode row) {
        return parser.parseBody(json.writeValueAsBytes(row));
    }

    private static void assertRejects(Runnable parse, String field) {
        assertThatThrownBy(parse::run).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.status().value()).isEqualTo(400);
            assertThat(e.field()).isEqualTo(field);
            assertThat(e.getMessage()).contains(field);
        });
    }

    @Test
    void parsesTheCustomersShape() {
        RegnoRequest r = parse(validRow(json));
        assertThat(r.regnoRecognize()).isEqualTo("А939НО196");
        assertThat(r.aftsRegnoAi()).isEqualTo("А939НО190");
        assertThat(r.recognitionAccuracy()).isEqualTo(6.4);
        assertThat(r.aftsRegnoAiScore()).isEqualTo(0.8689166903495789);
        assertThat(r.charScores()).containsExactly(0.99, 0.87, 1.0);
        assertThat(r.lengthScores()).containsExactly(3.2e-10, 1.0);
        assertThat(r.timeCheck()).isEqualTo(LocalDateTime.of(2021, 8, 1, 9, 2, 59));
        assertThat(r.direction()).isZero();
    }

    @Test
    void acceptsScoreListsAsJsonArraysAndEmptyLists() {
        ObjectNode row = validRow(json);
        row.putArray("afts_regno_ai_char_scores").add(0.5).add(0.25);
        row.put("afts_regno_ai_length_scores", "[]");
        RegnoRequest r = parse(row);
        assertThat(r.charScores()).containsExactly(0.5, 0.25);
        assertThat(r.lengthScores()).isEmpty();
    }

    @Test
    void acceptsNumbersSentAsStrings() {
        ObjectNode row = validRow(json);
        row.put("recognition_accuracy", "99.0");
        row.put("direction", "1");
        RegnoRequest r = parse(row);
        assertThat(r.recognitionAccuracy()).isEqualTo(99.0);
        assertThat(r.direction()).isEqualTo(1);
    }

    @Test
    void acceptsADoubleEncodedBody() {
        byte[] body = json.writeValueAsBytes(json.writeValueAsString(validRow(json)));
        assertThat(new String(body, StandardCharsets.UTF_8)).startsWith("\"{");
        assertThat(parser.parseBody(body)).usingRecursiveComparison().isEqualTo(parse(validRow(json)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"regno_recognize", "afts_regno_ai", "recognition_accuracy", "afts_regno_ai_score",
            "afts_regno_ai_char_scores", "afts_regno_ai_length_scores", "camera_type", "camera_class", "time_check",
            "direction"})
    void namesEachMissingField(String field) {
        ObjectNode row = validRow(json);
        row.remove(field);
        assertRejects(() -> parse(row), field);
        row.putNull(field);
        assertRejects(() -> parse(row), field);
    }

    @Test
    void namesInvalidValues() {
        ObjectNode row = validRow(json);
        row.put("direction", 2);
        assertRejects(() -> parse(row), "direction");
        row.put("direction", true);
        assertRejects(() -> parse(row), "direction");

        ObjectNode time = validRow(json);
        time.put("time_check", "2021-02-30 09:02:59");
        assertRejects(() -> parse(time), "time_check");
        time.put("time_check", "2021-08-01T09:02:59");
        assertRejects(() -> parse(time), "time_check");

        ObjectNode accuracy = validRow(json);
        accuracy.put("recognition_accuracy", "NaN");
        assertRejects(() -> parse(accuracy), "recognition_accuracy");
        accuracy.put("recognition_accuracy", "1.0f");
        assertRejects(() -> parse(accuracy), "recognition_accuracy");
        accuracy.put("recognition_accuracy", false);
        assertRejects(() -> parse(accuracy), "recognition_accuracy");

        ObjectNode scores = validRow(json);
        scores.put("afts_regno_ai_char_scores", "[0.9, \"x\"]");
        assertRejects(() -> parse(scores), "afts_regno_ai_char_scores");
        scores.put("afts_regno_ai_char_scores", "0.9, 0.8");
        assertRejects(() -> parse(scores), "afts_regno_ai_char_scores");
        scores.put("afts_regno_ai_char_scores", 0.9);
        assertRejects(() -> parse(scores), "afts_regno_ai_char_scores");

        ObjectNode plate = validRow(json);
        plate.put("afts_regno_ai", 12345);
        assertRejects(() -> parse(plate), "afts_regno_ai");
        plate.put("afts_regno_ai", "А".repeat(RegnoRequestParser.MAX_PLATE_LENGTH + 1));
        assertRejects(() -> parse(plate), "afts_regno_ai");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "[", "[0.9,", "[0.9] [1]", "[0.9]x", "{}", "0.9", "[[0.9]]", "[0.9, null]",
            "[0.9, true]", "[0.9, 1e999]", "[NaN]", "[0.9,]"})
    void scoreListsAsTextAreOneListOfFiniteNumbers(String text) {
        ObjectNode row = validRow(json);
        row.put("afts_regno_ai_length_scores", text);
        assertRejects(() -> parse(row), "afts_regno_ai_length_scores");
    }

    @Test
    void scoreListsAsTextKeepEveryDigitAndAreBounded() {
        assertThat(parser.scores("s", " [ 3.2404470773350624e-10 , 1 , -0.5 ] ")).containsExactly(
                3.2404470773350624e-10, 1.0, -0.5);
        assertThat(parser.scores("s", "[]")).isEmpty();
        String longest = "[" + "0.5, ".repeat(RegnoRequestParser.MAX_SCORES - 1) + "0.5]";
        assertThat(parser.scores("s", longest)).hasSize(RegnoRequestParser.MAX_SCORES);
        String tooMany = "[" + "0.5, ".repeat(RegnoRequestParser.MAX_SCORES) + "0.5]";
        assertThatThrownBy(() -> parser.scores("s", tooMany)).hasMessageContaining("more than "
                + RegnoRequestParser.MAX_SCORES);
        assertThatThrownBy(() -> parser.scores("s", "[0.5, 0.5, \"x\"]")).hasMessageContaining("item 2 is not");
    }

    @Test
    void malformedOrNonObjectBodiesAreBadRequests() {
        for (String body : new String[] {"{", "[1,2]", "42", "\"not json inside\"", "{\"a\":NaN}"}) {
            assertThatThrownBy(() -> parser.parseBody(body.getBytes(StandardCharsets.UTF_8)))
                    .as(body)
                    .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status().value()).isEqualTo(400));
        }
    }
}

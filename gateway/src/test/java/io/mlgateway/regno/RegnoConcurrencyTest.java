package io.mlgateway.regno;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.io.ClassPathResource;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The 100 real recognitions sent all at once, over HTTP: concurrent rows share native calls (micro-batching), and
 * every answer still goes back to the request it belongs to, equal to scoring that row alone in-process.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0",
        "gateway.api.api-keys=sha256:62af8704764faf8ea82fc61ce9c4c3908b6cb97d463a634e9e587d7c885db0ef",
        "gateway.scoring.threads=2",
        "gateway.scoring.batching.max-batch-size=16"})
class RegnoConcurrencyTest {

    private static final JsonMapper json = JsonMapper.builder().build();
    private static RegnoModel reference;

    @LocalServerPort
    int port;
    @Autowired
    MeterRegistry meters;

    @BeforeAll
    static void loadReferenceModel() throws Exception {
        reference = RegnoModel.load(new ClassPathResource("models/regno/micromodel.cbm"));
    }

    @AfterAll
    static void freeReferenceModel() {
        reference.close();
    }

    private static String body(Map<String, String> row) {
        return json.writeValueAsString(RegnoTestData.request(row));
    }

    @Test
    void concurrentRowsAreBatchedAndEachAnswerIsItsOwnRows() throws Exception {
        List<Map<String, String>> rows = RegnoTestData.rows();
        WebClient client = WebClient.builder().baseUrl("http://127.0.0.1:" + port).build();
        DistributionSummary batches = meters.get("gateway.scoring.batch.size").tag("model", "regno").summary();
        // Batching depends on arrivals overlapping a running call; a few bursts of 100 make that certain enough.
        for (int burst = 0; burst < 5 && batches.totalAmount() == batches.count(); burst++) {
            List<JsonNode> answers = Flux.range(0, rows.size())
                    .flatMapSequential(i -> client.post().uri("/v1/regno/predict").header("x-api-key", "test-key")
                            .contentType(MediaType.APPLICATION_JSON).bodyValue(body(rows.get(i)))
                            .retrieve().bodyToMono(byte[].class).map(json::readTree), rows.size())
                    .collectList()
                    .block(Duration.ofSeconds(60));
            assertThat(answers).hasSize(rows.size());
            for (int i = 0; i < rows.size(); i++) {
                RegnoPrediction expected = reference.predict(
                        List.of(RegnoFeatureRecipe.build(RegnoModelTest.fromCsv(rows.get(i))))).get(0);
                assertThat(answers.get(i).get("positive").doubleValue()).as("row %d", i).isEqualTo(expected.positive());
                assertThat(answers.get(i).get("negative").doubleValue()).as("row %d", i).isEqualTo(expected.negative());
            }
        }
        assertThat(batches.totalAmount()).as("rows scored").isGreaterThan(batches.count());
        assertThat(batches.max()).isLessThanOrEqualTo(16);
    }
}

package io.mlgateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.event.KeyValuePair;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * Request ids and access-log lines as shipped: a scored request (on the direct Netty routes), a batch (WebFlux),
 * and a 401 before any handler (WebFlux). Every request is logged here
 * (sample rate 1); the sampling rules themselves are checked on {@link AccessLog}.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0",
        "gateway.api.api-keys=sha256:62af8704764faf8ea82fc61ce9c4c3908b6cb97d463a634e9e587d7c885db0ef",
        "gateway.access-log.sample-rate=1.0"})
class AccessLogTest {

    @LocalServerPort
    int port;

    private WebTestClient api;
    private final AccessLogLines lines = new AccessLogLines();
    private String sample;

    @BeforeEach
    void attach() throws Exception {
        api = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(Duration.ofSeconds(20)).build();
        sample = Files.readString(Path.of("../load-tests/bench/regno.json"));
        lines.attach();
    }

    @AfterEach
    void detach() {
        lines.detach();
    }

    private static Map<String, Object> fields(ILoggingEvent event) {
        Map<String, Object> fields = new HashMap<>();
        for (KeyValuePair kv : event.getKeyValuePairs()) {
            fields.put(kv.key, kv.value);
        }
        return fields;
    }

    private Map<String, Object> lineFor(String requestId) throws InterruptedException {
        for (int i = 0; i < 100; i++) { // the line is written as the response commits, maybe just after the client saw it
            for (ILoggingEvent event : lines.lines()) {
                if (requestId.equals(fields(event).get("request_id"))) {
                    return fields(event);
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no access-log line with request_id " + requestId + " in " + lines.lines());
    }

    @Test
    void aClientsRequestIdIsEchoedAndLogged() throws Exception {
        api.post().uri("/v1/regno/predict").header("x-api-key", "test-key").header(AccessLog.HEADER, "client-id:42")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(sample).exchange()
                .expectStatus().isOk().expectHeader().valueEquals(AccessLog.HEADER, "client-id:42");
        assertThat(lineFor("client-id:42")).containsEntry("method", "POST").containsEntry("uri", "/v1/regno/predict")
                .containsEntry("status", 200).containsKey("duration_ms");
    }

    @Test
    void aMissingOrUnacceptableIdIsReplacedByAGeneratedOne() throws Exception {
        String generated = api.post().uri("/v1/regno/predict").header("x-api-key", "test-key")
                .header(AccessLog.HEADER, "not acceptable: spaces and far too long " + "x".repeat(80))
                .contentType(MediaType.APPLICATION_JSON).bodyValue(sample).exchange()
                .expectStatus().isOk().returnResult(byte[].class).getResponseHeaders().getFirst(AccessLog.HEADER);
        assertThat(generated).matches("[0-9a-f-]{36}");
        assertThat(lineFor(generated)).containsEntry("status", 200);
    }

    @Test
    void webFluxAnswersCarryTheIdTooIncludingErrorsBeforeAnyHandler() throws Exception {
        api.post().uri("/v1/regno/predict/batch").header("x-api-key", "test-key").header(AccessLog.HEADER, "batch-1")
                .contentType(MediaType.APPLICATION_JSON).bodyValue("{\"instances\":[" + sample + "]}").exchange()
                .expectStatus().isOk().expectHeader().valueEquals(AccessLog.HEADER, "batch-1");
        assertThat(lineFor("batch-1")).containsEntry("uri", "/v1/regno/predict/batch").containsEntry("status", 200);

        api.post().uri("/v1/regno/predict").header(AccessLog.HEADER, "no-key-1")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(sample).exchange()
                .expectStatus().isUnauthorized().expectHeader().valueEquals(AccessLog.HEADER, "no-key-1");
        assertThat(lineFor("no-key-1")).containsEntry("status", 401);
    }
}

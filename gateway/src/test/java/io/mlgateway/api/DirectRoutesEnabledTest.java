package io.mlgateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * As shipped ({@code gateway.api.direct-routes} not overridden) the single-row endpoints are served on Reactor
 * Netty routes with the same contract: answers, the error envelope naming the field, the request id, and what
 * they leave to WebFlux (401 without a key, 415 for another content type).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0",
        "gateway.api.api-keys=sha256:62af8704764faf8ea82fc61ce9c4c3908b6cb97d463a634e9e587d7c885db0ef"})
class DirectRoutesEnabledTest {

    @LocalServerPort
    int port;
    @Autowired
    ApplicationContext context;

    private WebTestClient api;
    private String sample;

    @BeforeEach
    void client() throws Exception {
        api = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(Duration.ofSeconds(20)).build();
        sample = Files.readString(Path.of("../load-tests/bench/regno.json"));
    }

    private WebTestClient.ResponseSpec post(String path, String body) {
        return api.post().uri(path).header("x-api-key", "test-key").header(AccessLog.HEADER, "direct-1")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body).exchange();
    }

    @Test
    void theSingleRowEndpointsAnswerTheSameContract() {
        assertThat(context.getBeansOfType(DirectRoutes.class)).hasSize(1);
        post("/v1/regno/predict", sample).expectStatus().isOk()
                .expectHeader().valueEquals(AccessLog.HEADER, "direct-1")
                .expectBody().jsonPath("$.positive").isNumber().jsonPath("$.model_version").isNotEmpty();
        post("/reg/", sample).expectStatus().isOk().expectBody().jsonPath("$.status").isEqualTo("ok");
        post("/v1/regno/predict", sample.replace("\"direction\":0", "\"direction\":\"north\""))
                .expectStatus().isBadRequest()
                .expectBody().jsonPath("$.status").isEqualTo("fail").jsonPath("$.field").isEqualTo("direction");
    }

    @Test
    void whatTheyDoNotTakeIsAnsweredByWebFlux() {
        api.post().uri("/v1/regno/predict").contentType(MediaType.APPLICATION_JSON).bodyValue(sample).exchange()
                .expectStatus().isUnauthorized().expectBody().jsonPath("$.field").isEqualTo("x-api-key");
        api.post().uri("/v1/regno/predict").header("x-api-key", "test-key").contentType(MediaType.TEXT_PLAIN)
                .bodyValue(sample).exchange().expectStatus().isEqualTo(415);
    }
}

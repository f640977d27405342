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
 * With {@code gateway.api.direct-routes=false} the WebFlux controllers serve the single-row endpoints
 * themselves and no Netty route is registered.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0",
        "gateway.api.api-keys=sha256:62af8704764faf8ea82fc61ce9c4c3908b6cb97d463a634e9e587d7c885db0ef",
        "gateway.api.max-body-size=1KB",
        "gateway.api.direct-routes=false"})
class WebFluxRoutesTest {

    @LocalServerPort
    int port;
    @Autowired
    ApplicationContext context;

    private WebTestClient api;

    @BeforeEach
    void client() {
        api = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(Duration.ofSeconds(20)).build();
    }

    private WebTestClient.ResponseSpec post(String path, String body) {
        return api.post().uri(path).header("x-api-key", "test-key").contentType(MediaType.APPLICATION_JSON)
                .bodyValue(body).exchange();
    }

    @Test
    void noDirectRoutesAreRegistered() {
        assertThat(context.getBeansOfType(DirectRoutes.class)).isEmpty();
    }

    @Test
    void regnoIsScoredAndBadInputNamesItsField() throws Exception {
        String sample = Files.readString(Path.of("../load-tests/bench/regno.json"));
        post("/v1/regno/predict", sample).expectStatus().isOk()
                .expectBody().jsonPath("$.positive").isNumber().jsonPath("$.model_version").isNotEmpty();
        post("/reg/", sample).expectStatus().isOk().expectBody().jsonPath("$.status").isEqualTo("ok");
        post("/v1/regno/predict", sample.replace("\"direction\":0", "\"direction\":\"north\""))
                .expectStatus().isBadRequest()
                .expectBody().jsonPath("$.status").isEqualTo("fail").jsonPath("$.field").isEqualTo("direction");
        post("/v1/regno/predict", " ".repeat(2048)).expectStatus().isEqualTo(413);
    }
}

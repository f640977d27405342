package io.mlgateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * A keep-alive connection keeps being read after a request that was buffered behind another one is answered at
 * once (here a 401, answered before its body is read). Reactor Netty 1.3.7 stopped reading such a connection
 * (reactor/reactor-netty#4361): the next request on it hung forever. Under load that is what a client that reuses
 * connections sees after any request that arrives before the previous answer's bookkeeping is done. Pipelining the
 * two requests makes the buffering certain instead of a race; both the WebFlux path and the direct routes are
 * checked, since the hang is below both.
 */
class KeepAliveTest {

    static final String KEY = "test-key";
    static final String KEY_HASH = "sha256:62af8704764faf8ea82fc61ce9c4c3908b6cb97d463a634e9e587d7c885db0ef"; // of KEY

    static void nextRequestIsAnsweredAfterABufferedRejection(int port) throws Exception {
        String sample = Files.readString(Path.of("../load-tests/bench/regno.json"));
        try (KeepAliveConnection connection = new KeepAliveConnection(port, Duration.ofSeconds(5))) {
            for (int i = 0; i < 3; i++) {
                connection.send(
                        KeepAliveConnection.post("/v1/regno/predict/batch", KEY, "{\"instances\":[" + sample + "]}"),
                        KeepAliveConnection.post("/v1/regno/predict", null, sample));
                assertThat(connection.read().status()).isEqualTo(200);
                KeepAliveConnection.Answer rejected = connection.read();
                assertThat(rejected.status()).isEqualTo(401);
                assertThat(rejected.body()).contains("x-api-key");

                connection.send(KeepAliveConnection.post("/v1/regno/predict", KEY, sample));
                KeepAliveConnection.Answer scored = connection.read();
                assertThat(scored.status()).isEqualTo(200);
                assertThat(scored.body()).contains("\"positive\"");
            }
        }
    }

    @Nested
    @SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
            "management.server.port=0", "gateway.api.api-keys=" + KEY_HASH, "gateway.api.direct-routes=false"})
    class OnWebFlux {

        @LocalServerPort
        int port;

        @Test
        void theConnectionIsStillRead() throws Exception {
            nextRequestIsAnsweredAfterABufferedRejection(port);
        }
    }

    @Nested
    @SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
            "management.server.port=0", "gateway.api.api-keys=" + KEY_HASH, "gateway.api.direct-routes=true"})
    class OnDirectRoutes {

        @LocalServerPort
        int port;

        @Test
        void theConnectionIsStillRead() throws Exception {
            nextRequestIsAnsweredAfterABufferedRejection(port);
        }
    }
}

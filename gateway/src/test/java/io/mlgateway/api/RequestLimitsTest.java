package io.mlgateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Requests Reactor Netty's decoder refuses before any route sees them (a request line over
 * server.netty.max-initial-line-length, 4 KB; headers over server.max-http-request-header-size, 8 KB; a malformed
 * head) are answered 414, 431 and 400 in the API's error envelope (the protocol's under /v2), not with an empty
 * body, and the connection is closed after the answer. Raw sockets: the decoder's answer is the wire's.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0", "gateway.api.api-keys=" + RawHttp.KEY_CONFIG})
class RequestLimitsTest {

    @LocalServerPort
    int port;

    @Autowired
    MeterRegistry meters;

    static final String LONG_ID = "u".repeat(4_100);

    /** Direct route and WebFlux route alike: the line is refused before either. */
    @ParameterizedTest
    @ValueSource(strings = {"/v1/rentals/" + "u" + "/predict", "/v1/rentals/" + "u" + "/predict/batch",
            "/v2/models/" + "u" + "/infer"})
    void aRequestLineOverTheLimitIs414InTheEnvelope(String template) throws Exception {
        String path = template.replace("/u/", "/" + LONG_ID + "/");
        double before = RawHttp.refused(meters, "line_too_long");
        RawHttp.Answer answer = exchange(RawHttp.postHead(path, "Content-Length: 2") + "{}");
        assertThat(answer.status()).isEqualTo(414);
        assertEnvelope(answer, path, "request line too long");
        assertThat(RawHttp.refused(meters, "line_too_long")).isEqualTo(before + 1);
    }

    /**
     * A keep-alive client sending the over-long request as soon as it has read the previous answer: the request can
     * reach the server before that exchange is torn down, where Reactor Netty's own decoder answer was lost (about 1
     * in 10 connections). Repeated, so that a return of the race fails this test with near certainty.
     */
    @RepeatedTest(50)
    void a414RightAfterAnAnsweredRequestOnTheSameConnectionIsAnsweredAndKnowsItsPath() throws Exception {
        String path = "/v2/models/" + LONG_ID + "/infer";
        try (Socket socket = RawHttp.connect(port, Duration.ofSeconds(5))) {
            OutputStream out = socket.getOutputStream();
            out.write(regnoRequest());
            out.flush();
            assertThat(RawHttp.read(socket.getInputStream()).status()).isEqualTo(200);
            out.write(RawHttp.ascii(RawHttp.postHead(path, "Content-Length: 2") + "{}"));
            out.flush();
            RawHttp.Answer answer = RawHttp.read(socket.getInputStream());
            assertThat(answer).as("an answer to the over-long request").isNotNull();
            assertThat(answer.status()).isEqualTo(414);
            assertEnvelope(answer, path, "request line too long");
            assertThat(RawHttp.closedByServer(socket)).isTrue();
        }
    }

    /** Pipelined behind a request still being scored: the 414 waits for that answer, then follows it. */
    @Test
    void a414PipelinedBehindARequestFollowsItsAnswer() throws Exception {
        String path = "/v1/rentals/" + LONG_ID + "/predict";
        try (Socket socket = RawHttp.connect(port, Duration.ofSeconds(5))) {
            OutputStream out = socket.getOutputStream();
            out.write(regnoRequest());
            out.write(RawHttp.ascii(RawHttp.postHead(path, "Content-Length: 2") + "{}"));
            out.flush();
            assertThat(RawHttp.read(socket.getInputStream()).status()).isEqualTo(200);
            RawHttp.Answer answer = RawHttp.read(socket.getInputStream());
            assertThat(answer).as("an answer to the pipelined over-long request").isNotNull();
            assertThat(answer.status()).isEqualTo(414);
            assertEnvelope(answer, path, "request line too long");
            assertThat(RawHttp.closedByServer(socket)).isTrue();
        }
    }

    private static byte[] regnoRequest() throws Exception {
        String sample = Files.readString(Path.of("../load-tests/bench/regno.json"));
        return KeepAliveConnection.post("/v1/regno/predict", RawHttp.KEY, sample).getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v1/regno/predict", "/v1/regno/predict/batch", "/v2/models/regno/infer"})
    void headersOverTheLimitAre431InTheEnvelope(String path) throws Exception {
        double before = RawHttp.refused(meters, "headers_too_large");
        RawHttp.Answer answer = exchange(RawHttp.postHead(path,
                "X-Filler: " + "f".repeat(9_000) + "\r\nContent-Length: 2") + "{}");
        assertThat(answer.status()).isEqualTo(431);
        assertEnvelope(answer, path, "request headers too large");
        assertThat(RawHttp.refused(meters, "headers_too_large")).isEqualTo(before + 1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v1/regno/predict", "/v2/models/regno/infer"})
    void aMalformedHeadIs400InTheEnvelope(String path) throws Exception {
        double before = RawHttp.refused(meters, "malformed");
        RawHttp.Answer answer = exchange(RawHttp.postHead(path, "Content-Length: two") + "{}");
        assertThat(answer.status()).isEqualTo(400);
        assertEnvelope(answer, path, "malformed HTTP request");
        assertThat(RawHttp.refused(meters, "malformed")).isEqualTo(before + 1);
    }

    /** Under the limits nothing changes: a 4,000-character user id reaches the route. */
    @Test
    void aLongUserIdUnderTheLimitReachesTheRoute() throws Exception {
        String path = "/v1/rentals/" + "u".repeat(4_000) + "/predict";
        RawHttp.Answer answer = exchange(RawHttp.postHead(path, "Content-Length: 2") + "{}");
        assertThat(answer.status()).isNotIn(414, 431).isBetween(200, 499);
        assertThat(answer.body()).startsWith("{");
        assertThat(answer.header("connection")).isNull();
    }

    /** Sends the whole request, then reads: the answer must be there, whatever happened to the rest. */
    private RawHttp.Answer exchange(String request) throws Exception {
        try (Socket socket = RawHttp.connect(port, Duration.ofSeconds(10))) {
            OutputStream out = socket.getOutputStream();
            out.write(RawHttp.ascii(request));
            out.flush();
            RawHttp.Answer answer = RawHttp.read(socket.getInputStream());
            assertThat(answer).as("an answer, not a closed connection").isNotNull();
            if ("close".equals(answer.header("connection"))) {
                assertThat(RawHttp.closedByServer(socket)).as("closed after a refused head").isTrue();
            }
            return answer;
        }
    }

    private static void assertEnvelope(RawHttp.Answer answer, String path, String message) {
        assertThat(answer.header("content-type")).isEqualTo("application/json");
        assertThat(answer.header("connection")).isEqualTo("close");
        if (path.startsWith("/v2")) {
            assertThat(answer.body()).startsWith("{\"error\":\"" + message);
        } else {
            assertThat(answer.body()).startsWith("{\"status\":\"fail\",\"message\":\"" + message);
        }
    }
}

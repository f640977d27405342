package io.mlgateway.loadtests.baseline;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The yardstick for the gateway's overhead: a bare reactor-netty server on the same routes that reads the whole
 * request body, as the gateway must, and answers a constant JSON body of the same size as the gateway's answer.
 * No parsing, no scoring, no Spring: what the hardware and Netty allow for this request/response shape.
 *
 * <p>{@code java -cp … io.mlgateway.loadtests.baseline.BaselineServer [port]} (default 8090).
 */
public final class BaselineServer {

    /** Same length as the gateway's {@code /v1/regno/predict} answer. */
    static final String REGNO_ANSWER =
            "{\"negative\":0.08461234092712402,\"positive\":0.915387630462646,\"model_version\":\"regno-3b1f0c2a9e7d\"}";
    /** Same length as the gateway's {@code /reg/} answer. */
    static final String LEGACY_ANSWER =
            "{\"body\":{\"negative\":0.08461234092712402,\"positive\":0.915387630462646},\"status\":\"ok\"}";
    /** Same length as the gateway's {@code /v1/rentals/{user}/predict} answer for a user id of 6 characters. */
    static final String RENTALS_ANSWER = "{\"request_id\":\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"user_id\":"
            + "\"user-1\",\"model_version\":1,\"prediction\":117.71653747558594}";

    /** Same length as the gateway's {@code /v2/models/regno/infer} answer to one row without an id. */
    static final String REGNO_OIP_ANSWER = "{\"model_name\":\"regno\",\"model_version\":\"regno-d6d356253b59\","
            + "\"id\":\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"outputs\":[{\"name\":\"negative\",\"shape\":[1],"
            + "\"datatype\":\"FP64\",\"data\":[0.9833415173975795]},{\"name\":\"positive\",\"shape\":[1],"
            + "\"datatype\":\"FP64\",\"data\":[0.01665848260242052]}]}";
    /** Same length as the gateway's {@code /v2/models/rentals/infer} answer to one row of user-1 without an id. */
    static final String RENTALS_OIP_ANSWER = "{\"model_name\":\"rentals\",\"model_version\":\"1\","
            + "\"id\":\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"parameters\":{\"user_id\":\"user-1\"},"
            + "\"outputs\":[{\"name\":\"predictions\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[450.973]},"
            + "{\"name\":\"request_id\",\"shape\":[1],\"datatype\":\"BYTES\","
            + "\"data\":[\"01a23674-28aa-7384-a9c8-904ee7d1ff88\"]}]}";

    private BaselineServer() {
    }

    public static void main(String[] args) {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8090;
        DisposableServer server = start(port);
        System.out.println("baseline listening on :" + server.port());
        server.onDispose().block();
    }

    public static DisposableServer start(int port) {
        ByteBuf regno = constant(REGNO_ANSWER);
        ByteBuf legacy = constant(LEGACY_ANSWER);
        ByteBuf rentals = constant(RENTALS_ANSWER);
        ByteBuf regnoOip = constant(REGNO_OIP_ANSWER);
        ByteBuf rentalsOip = constant(RENTALS_OIP_ANSWER);
        return HttpServer.create()
                .host("127.0.0.1")
                .port(port)
                .route(routes -> routes
                        .post("/v1/regno/predict", (req, res) -> answer(req, res, regno))
                        .post("/reg/", (req, res) -> answer(req, res, legacy))
                        .post("/v1/rentals/{user}/predict", (req, res) -> answer(req, res, rentals))
                        .post("/v2/models/regno/infer", (req, res) -> answer(req, res, regnoOip))
                        .post("/v2/models/rentals/infer", (req, res) -> answer(req, res, rentalsOip)))
                .bindNow();
    }

    private static ByteBuf constant(String json) {
        return Unpooled.unreleasableBuffer(Unpooled.directBuffer().writeBytes(json.getBytes(StandardCharsets.UTF_8)));
    }

    /** Reads the body to its end (the gateway cannot answer before it has the whole request), then the constant. */
    private static Mono<Void> answer(HttpServerRequest req, HttpServerResponse res, ByteBuf body) {
        return req.receive().then(Mono.defer(() -> res
                .header("content-type", "application/json")
                .header("content-length", Integer.toString(body.readableBytes()))
                .sendObject(body.duplicate())
                .then()));
    }
}

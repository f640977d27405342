package io.mlgateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.errors.ApiException;
import io.mlgateway.shared.testing.KeyHashes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.NettyDataBufferFactory;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.util.unit.DataSize;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * Reading a body on the WebFlux path: Spring hands each inbound buffer over retained (ReactorServerHttpRequest
 * retains what Reactor Netty received), so the reader owns it and must release it whether it keeps, counts or
 * refuses its bytes. A buffer not released holds pooled direct memory for the life of the process.
 */
class RequestBodiesTest {

    private static final NettyDataBufferFactory FACTORY = new NettyDataBufferFactory(ByteBufAllocator.DEFAULT);
    private static final RequestBodies BODIES = new RequestBodies(new ApiProperties(List.of(KeyHashes.sha256("k")),
            List.of(), null, null, Duration.ofSeconds(10), 0, Duration.ofSeconds(1), DataSize.ofKilobytes(1)));

    /** Inbound buffers as Reactor Netty allocates them, each recorded so the test can see what became of it. */
    private final List<ByteBuf> created = new ArrayList<>();

    private DataBuffer inbound(byte[] bytes) {
        ByteBuf buf = ByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        created.add(buf);
        return FACTORY.wrap(buf);
    }

    private MockServerHttpRequest request(Flux<DataBuffer> body) {
        return MockServerHttpRequest.post("/v1/rentals/actuals").body(body);
    }

    private void everyBufferReleased() {
        assertThat(created).isNotEmpty();
        assertThat(created).allSatisfy(buf -> assertThat(buf.refCnt()).as("reference count").isZero());
    }

    @Test
    void aBodyUnderTheCapIsCopiedAndEveryBufferReleased() {
        Flux<DataBuffer> body = Flux.just("{\"a\":", "1,\"b\":", "2}")
                .map(part -> inbound(part.getBytes(StandardCharsets.UTF_8)));
        StepVerifier.create(BODIES.read(request(body)))
                .assertNext(bytes -> assertThat(new String(bytes, StandardCharsets.UTF_8)).isEqualTo("{\"a\":1,\"b\":2}"))
                .verifyComplete();
        assertThat(created).hasSize(3);
        everyBufferReleased();
    }

    @Test
    void aBodyOverTheCapIsDrainedAnd413dWithEveryBufferReleased() {
        Flux<DataBuffer> body = Flux.range(0, 3).map(i -> inbound(filled(600)));
        StepVerifier.create(BODIES.read(request(body)))
                .verifyErrorSatisfies(e -> assertThat(((ApiException) e).status()).isEqualTo(HttpStatus.CONTENT_TOO_LARGE));
        assertThat(created).hasSize(3);
        everyBufferReleased();
    }

    @Test
    void aBodyBeyondTheDrainLimitStopsTheReadAndReleasesTheBufferThatStoppedIt() {
        // The drain limit is at least 4 MB: the fifth 1 MB buffer stops the read, the sixth is never asked for.
        Flux<DataBuffer> body = Flux.range(0, 10).map(i -> inbound(filled(1024 * 1024)));
        StepVerifier.create(BODIES.read(request(body)))
                .verifyErrorSatisfies(e -> assertThat(((ApiException) e).status()).isEqualTo(HttpStatus.CONTENT_TOO_LARGE));
        assertThat(created).hasSize(5);
        everyBufferReleased();
    }

    @Test
    void anEmptyBodyIsA400() {
        Flux<DataBuffer> body = Flux.just(inbound(new byte[0]));
        StepVerifier.create(BODIES.read(request(body)))
                .verifyErrorSatisfies(e -> assertThat(((ApiException) e).status()).isEqualTo(HttpStatus.BAD_REQUEST));
        everyBufferReleased();
    }

    private static byte[] filled(int n) {
        byte[] bytes = new byte[n];
        Arrays.fill(bytes, (byte) ' ');
        return bytes;
    }
}

package io.mlgateway.api;

import io.mlgateway.errors.ApiException;
import io.netty.buffer.ByteBuf;
import java.util.Arrays;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Reads a request body into memory with a hard cap. Past the cap nothing more is kept; the rest of a moderately
 * oversized body is read and discarded so the client, still sending, reliably receives the 413 instead of a
 * reset connection. Bodies far beyond the cap (declared or actual) are cut off at once.
 */
@Component
public class RequestBodies {

    /** How much of an oversized body is drained before giving up on a clean 413. */
    private static final long DRAIN_FACTOR = 16;

    private final int maxBytes;
    private final long drainLimit;

    public RequestBodies(ApiProperties properties) {
        this.maxBytes = (int) Math.min(Integer.MAX_VALUE, properties.maxBodySize().toBytes());
        this.drainLimit = Math.max(maxBytes * DRAIN_FACTOR, 4L * 1024 * 1024);
    }

    /** {@code body} parsed as one JSON object; anything else is the client's 400. */
    public static tools.jackson.databind.JsonNode jsonObject(tools.jackson.databind.json.JsonMapper json, byte[] body) {
        tools.jackson.databind.JsonNode node;
        try {
            node = json.readTree(body);
        } catch (tools.jackson.core.JacksonException e) {
            throw ApiException.badRequest("malformed JSON body");
        }
        if (node == null || !node.isObject()) {
            throw ApiException.badRequest("body must be a JSON object");
        }
        return node;
    }

    public Mono<byte[]> read(ServerHttpRequest request) {
        long declared = request.getHeaders().getContentLength();
        if (declared > drainLimit) {
            return Mono.error(tooLarge());
        }
        return Mono.defer(() -> {
            Collector collector = new Collector();
            return request.getBody()
                    .takeWhile(collector::accept)
                    .then(Mono.fromCallable(collector::bytes));
        });
    }

    /** The same, for a body read straight from Reactor Netty ({@code DirectRoutes}). */
    public Mono<byte[]> read(Flux<ByteBuf> body, long declaredLength) {
        if (declaredLength > drainLimit) {
            return Mono.error(tooLarge());
        }
        return Mono.defer(() -> {
            Collector collector = new Collector();
            return body.takeWhile(collector::accept).then(Mono.fromCallable(collector::bytes));
        });
    }

    private ApiException tooLarge() {
        return new ApiException(HttpStatus.CONTENT_TOO_LARGE, "request body too large (limit " + maxBytes + " bytes)", null);
    }

    /**
     * Copies bytes up to the cap, then only counts what arrives, up to the drain limit. Buffers are copied during
     * onNext and never kept. Who releases them differs by path: Reactor Netty releases what it hands the direct
     * routes once onNext returns, but WebFlux hands its buffers over retained (its request body is
     * {@code receive().retain()}), so those are released here, whatever became of their bytes.
     */
    private final class Collector {

        private byte[] bytes = new byte[1024];
        private long total;

        /** Copies {@code buffer} and releases it; false stops reading (the connection will be closed). */
        synchronized boolean accept(DataBuffer buffer) {
            try {
                int n = buffer.readableByteCount();
                if (room(n)) {
                    buffer.read(bytes, (int) total, n);
                }
                return counted(n);
            } finally {
                DataBufferUtils.release(buffer);
            }
        }

        synchronized boolean accept(ByteBuf buffer) {
            int n = buffer.readableBytes();
            if (room(n)) {
                buffer.readBytes(bytes, (int) total, n);
            }
            return counted(n);
        }

        /** Grows the copy for {@code n} more bytes; false (and the copy dropped) past the cap. */
        private boolean room(int n) {
            if (total + n > maxBytes) {
                bytes = null;
                return false;
            }
            if (total + n > bytes.length) {
                bytes = Arrays.copyOf(bytes, (int) Math.min(maxBytes, Math.max(total + n, bytes.length * 2L)));
            }
            return true;
        }

        private boolean counted(int n) {
            total += n;
            return total <= drainLimit;
        }

        synchronized byte[] bytes() {
            if (total > maxBytes) {
                throw tooLarge();
            }
            if (total == 0) {
                throw ApiException.badRequest("request body is empty");
            }
            return total == bytes.length ? bytes : Arrays.copyOf(bytes, (int) total);
        }
    }
}

package io.mlgateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * An 80 MB body to a batch endpoint (limit 256 KB) gets a 413 in the error envelope that the client actually
 * reads, whatever the client: one that writes the whole body before reading (a naive client, which fails on a
 * reset while writing if the server closes with the body still arriving), one that reads while it writes; with
 * Content-Length and chunked; with normal and with small socket buffers (a small send buffer makes the client's
 * writes block on the server's reads, a small receive buffer keeps the answer unread longer). Meanwhile the
 * server's pooled Netty memory stays flat: the surplus is read and thrown away, never held.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0", "gateway.api.api-keys=" + RawHttp.KEY_CONFIG})
class OversizedBodyTest {

    static final long BODY = 80L * 1024 * 1024;
    static final int PIECE = 64 * 1024;

    @LocalServerPort
    int port;

    @ParameterizedTest(name = "{0} {1}, client {2}, small buffers {3}, connection {4}")
    @CsvSource(textBlock = """
            /v1/regno/predict/batch,         length,  naive,   false, keep-alive
            /v1/regno/predict/batch,         chunked, naive,   false, keep-alive
            /v1/regno/predict/batch,         length,  reading, false, keep-alive
            /v1/regno/predict/batch,         length,  naive,   true,  keep-alive
            /v1/regno/predict/batch,         length,  naive,   false, close
            /v1/regno/predict/batch,         chunked, naive,   true,  close
            /v1/rentals/u1/predict/batch,    length,  naive,   false, keep-alive
            /v1/rentals/u1/predict/batch,    chunked, naive,   true,  keep-alive
            /v1/rentals/u1/predict/batch,    chunked, reading, true,  keep-alive
            /v1/rentals/u1/predict/batch,    length,  naive,   false, close
            /v2/models/regno/infer,          length,  naive,   false, keep-alive
            /v2/models/regno/infer,          chunked, naive,   false, keep-alive
            /v2/models/regno/infer,          length,  reading, true,  keep-alive
            /v2/models/regno/infer,          length,  naive,   false, close
            /v2/models/regno/infer,          chunked, reading, true,  close
            """)
    void theClientReadsA413InTheEnvelope(String path, String framing, String client, boolean smallBuffers,
            String connection) throws Exception {
        boolean chunked = framing.equals("chunked");
        Socket socket = new Socket();
        if (smallBuffers) {
            socket.setSendBufferSize(4096);
            socket.setReceiveBufferSize(4096);
        }
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(60_000);
        long pooledBefore = pooled();
        AtomicLong pooledPeak = new AtomicLong(pooledBefore);
        try (socket) {
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            AtomicLong written = new AtomicLong();
            Runnable write = () -> {
                try {
                    writeBody(out, path, chunked, connection, written, pooledPeak);
                } catch (IOException e) {
                    throw new AssertionError("reset while writing, after " + written.get() + " of " + BODY
                            + " body bytes: " + e, e);
                }
            };
            RawHttp.Answer answer;
            if (client.equals("naive")) {
                write.run();
                answer = RawHttp.read(in);
            } else {
                // Reads while a second thread writes: it may stop writing once the answer is in.
                CompletableFuture<Void> writer = CompletableFuture.runAsync(write);
                answer = RawHttp.read(in);
                writer.handle((v, e) -> null).get(60, TimeUnit.SECONDS);
            }
            assertThat(answer).as("an answer, not a closed connection").isNotNull();
            assertThat(answer.status()).isEqualTo(413);
            if (path.startsWith("/v2")) {
                assertThat(answer.body()).startsWith("{\"error\":").contains("too large");
            } else {
                assertThat(answer.body()).contains("\"status\":\"fail\"").contains("too large");
            }
        }
        // Reading 80 MB through the server must not keep it: the pools grow by a few buffers at most.
        assertThat(pooledPeak.get() - pooledBefore).as("pooled Netty memory growth during the upload")
                .isLessThan(16L * 1024 * 1024);
    }

    private static void writeBody(OutputStream out, String path, boolean chunked, String connection,
            AtomicLong written, AtomicLong pooledPeak) throws IOException {
        out.write(RawHttp.ascii(RawHttp.postHead(path, "Connection: " + connection + "\r\n"
                + (chunked ? "Transfer-Encoding: chunked" : "Content-Length: " + BODY))));
        byte[] piece = new byte[PIECE];
        Arrays.fill(piece, (byte) ' ');
        piece[0] = '{';
        byte[] chunkHead = RawHttp.ascii(Integer.toHexString(PIECE) + "\r\n");
        byte[] crlf = RawHttp.ascii("\r\n");
        while (written.get() < BODY) {
            if (chunked) {
                out.write(chunkHead);
                out.write(piece);
                out.write(crlf);
            } else {
                out.write(piece);
            }
            long total = written.addAndGet(PIECE);
            if (total % (4 * 1024 * 1024) == 0) {
                pooledPeak.accumulateAndGet(pooled(), Math::max);
            }
            piece[0] = ' ';
        }
        if (chunked) {
            out.write(RawHttp.ascii("0\r\n\r\n"));
        }
        out.flush();
    }

    /**
     * Netty's pooled memory in use, direct and heap: where an inbound body would be held. Read from the allocator
     * the server's channels allocate from (ByteBufAllocator.DEFAULT: the adaptive allocator in Netty 4.2), not
     * PooledByteBufAllocator.DEFAULT, which no channel here uses and whose figure never moves.
     */
    static long pooled() {
        ByteBufAllocatorMetric metric = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
        return metric.usedDirectMemory() + metric.usedHeapMemory();
    }
}

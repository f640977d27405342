package io.mlgateway.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * One raw HTTP/1.1 keep-alive connection, so a test decides exactly which requests share a connection and when
 * they are written (a pooled HTTP client decides both itself). Requests may be pipelined: written together before
 * any answer is read.
 */
final class KeepAliveConnection implements AutoCloseable {

    /** The status line's code and the body of one answer. */
    record Answer(int status, String body) {
    }

    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    KeepAliveConnection(int port, Duration readTimeout) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout((int) readTimeout.toMillis());
        socket.setTcpNoDelay(true);
        out = socket.getOutputStream();
        in = socket.getInputStream();
    }

    /** A JSON POST, with an {@code x-api-key} header unless {@code apiKey} is null. */
    static String post(String path, String apiKey, String json) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        return "POST " + path + " HTTP/1.1\r\n"
                + "Host: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\n"
                + (apiKey == null ? "" : "x-api-key: " + apiKey + "\r\n")
                + "Content-Length: " + body.length + "\r\n\r\n"
                + json;
    }

    /** Writes the requests back to back in one write: pipelined when there are several. */
    void send(String... requests) throws IOException {
        out.write(String.join("", requests).getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Reads the next answer (Content-Length framed); fails if none comes within the read timeout. */
    Answer read() throws IOException {
        String head;
        try {
            head = readHead();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no answer within " + socket.getSoTimeout() + " ms on a keep-alive connection", e);
        }
        int status = Integer.parseInt(head.substring(9, 12));
        int length = 0;
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring("content-length:".length()).trim());
            }
        }
        byte[] body = in.readNBytes(length);
        return new Answer(status, new String(body, StandardCharsets.UTF_8));
    }

    private String readHead() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new AssertionError("connection closed after " + head.size() + " bytes of an answer");
            }
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

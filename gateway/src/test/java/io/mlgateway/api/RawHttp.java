package io.mlgateway.api;

import io.micrometer.core.instrument.MeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * Raw-socket HTTP/1.1 pieces for the slow-client and oversized-request tests: what a test writes is exactly what goes
 * on the wire, when it goes, and how the client reads (or does not read) meanwhile.
 */
final class RawHttp {

    /** The test API key; {@link #KEY_CONFIG} is what the gateway's key configuration holds for it. */
    static final String KEY = "slow-client-test-key";
    static final String KEY_CONFIG = "sha256:ca6e5edfc19733a1f6ee3077382ca6cf3887cbff8025ede65ec031810331315e"; // of KEY

    private RawHttp() {
    }

    /** An answer: status, headers (lower-case names, as read) and body; {@code closed} if EOF followed it. */
    record Answer(int status, String head, String body) {

        String header(String name) {
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }
    }

    static Socket connect(int port, Duration readTimeout) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout((int) readTimeout.toMillis());
        socket.setTcpNoDelay(true);
        return socket;
    }

    /** The head of a JSON POST with the test key and the given framing header ("Content-Length: n" or chunked). */
    static String postHead(String path, String framing) {
        return "POST " + path + " HTTP/1.1\r\n"
                + "Host: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\n"
                + "x-api-key: " + KEY + "\r\n"
                + framing + "\r\n\r\n";
    }

    /** What the gateway's {@code gateway_http_refused_total{reason}} counter holds now. */
    static double refused(MeterRegistry meters, String reason) {
        return meters.get("gateway.http.refused").tag("reason", reason).counter().count();
    }

    static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * Reads one Content-Length framed answer. Null if the connection ends (EOF or reset) before a status line: what
     * a client sees when the server just closes.
     */
    static Answer read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b;
            try {
                b = in.read();
            } catch (SocketException e) {
                if (head.size() == 0) {
                    return null;
                }
                throw e;
            }
            if (b < 0) {
                if (head.size() == 0) {
                    return null;
                }
                throw new AssertionError("connection closed after " + head.size() + " bytes of an answer");
            }
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        int status = Integer.parseInt(text.substring(9, 12));
        int length = 0;
        for (String line : text.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring("content-length:".length()).trim());
            }
        }
        byte[] body = in.readNBytes(length);
        return new Answer(status, text, new String(body, StandardCharsets.UTF_8));
    }

    /**
     * Waits for the server to close the connection: true on EOF or reset, false if it is still open when the
     * socket's read timeout passes. Bytes that arrive meanwhile are skipped.
     */
    static boolean closedByServer(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        byte[] skip = new byte[8192];
        try {
            while (in.read(skip) >= 0) {
                // an answer before the close is someone else's assertion
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true;
        }
    }
}

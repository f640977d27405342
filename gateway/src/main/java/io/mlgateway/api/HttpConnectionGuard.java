package io.mlgateway.api;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.springframework.http.HttpStatus;
import org.springframework.web.server.ResponseStatusException;
import reactor.netty.NettyPipeline;

/**
 * Per connection on the API port, around Reactor Netty's HTTP/1.1 codec: what Reactor Netty does not do for slow,
 * oversized or malformed requests. All of it runs on the connection's event loop, with timers, never blocking.
 *
 * <ul>
 *   <li><b>Slow request head.</b> From a request's first byte until its request line and headers are decoded,
 *   {@code request-head-timeout}; past it a 408 in the error envelope, and the connection is closed. (Reactor
 *   Netty's idle timeout, {@code server.netty.idle-timeout}, also runs until a request head is decoded, but it has
 *   no default, is the keep-alive wait as well, and closes without an answer.)</li>
 *   <li><b>Slow body.</b> From the end of the headers until the last byte of the body, {@code body-timeout}, and
 *   {@code body-read-timeout} between two reads; past either a 408 if the request has no answer yet, and the
 *   connection is closed. The body is read eagerly and copied up to the body limit ({@link RequestBodies}), so
 *   a slow body holds at most that much memory, and no scoring thread (scoring starts once the body is in).</li>
 *   <li><b>Decoder failures, answered here.</b> A request line or headers beyond Netty's limits
 *   ({@code server.netty.max-initial-line-length}, {@code server.max-http-request-header-size}) or a malformed
 *   request head is answered 414, 431 or 400 in the API's error envelope ({@link ApiErrorHandler#reply}, the
 *   protocol's shape under {@code /v2}), once any answer still under way on the connection is out, and the
 *   connection is closed. Not by Reactor Netty: it answers with an empty body, and when such a request arrives
 *   just after the previous answer was written but before that exchange is torn down (a keep-alive client that
 *   sends at once), it hands the answer to the finished exchange and nothing is ever sent (reactor-netty 1.3.8,
 *   {@code HttpServerOperations.sendDecodingFailures}; about 1 in 10 such connections on a busy machine).</li>
 *   <li><b>Lingering close.</b> When the connection is closed after an answer while the request's body is still
 *   arriving (an early 413 or 401 to a client that sent {@code Connection: close}), closing at once would make the
 *   kernel reset the connection over the unread bytes, and a client still writing its body would see the reset,
 *   not the answer. Instead the answer is followed by a FIN (output shut down) and the rest of the request is read
 *   and discarded until it ends, it pauses for {@code body-read-timeout}, or {@code linger-time} has passed.</li>
 * </ul>
 *
 * <p>The handlers are installed by {@link HttpServerCustomizer}.
 */
final class HttpConnectionGuard extends ChannelDuplexHandler {

    static final String NAME = "gateway.connectionGuard";
    static final String WIRE_NAME = "gateway.connectionGuard.wire";

    /** How much of a request's first bytes is kept, to tell its path when the decoder could not. */
    private static final int SNIFF = 64;

    private final Settings settings;
    private final ApiErrorHandler errors;
    private final HttpRefusals refusals;
    private ChannelHandlerContext ctx;

    /** When the first byte of the request head being read arrived (nanoTime); 0: none is being read. */
    private long headStarted;
    /** The first bytes of that request head, for its path (copied, no allocation per request). */
    private final byte[] requestStart = new byte[SNIFF];
    private int requestStartLength;
    /** Between a decoded request head and the last byte of its body. */
    private boolean inBody;
    private String bodyMethod;
    private String bodyPath;
    private long bodyStarted;
    private long lastBodyRead;
    /** Requests decoded and not answered yet (a final response's last byte not written). */
    private int unanswered;
    /** A final response has started and its last byte is not written yet. */
    private boolean responding;
    /** A request head the decoder failed on, waiting for the answer under way to be written before its own. */
    private DecoderFailure pendingFailure;
    /** The decoder gave up on this connection: whatever the client still sends is unread. */
    private boolean undecodable;
    /** An answer was completed while its request was still arriving (or unreadable): a close then lingers. */
    private boolean answeredEarly;
    /** A timeout closes the connection: at once, no lingering. */
    private boolean timedOut;
    /** One timer at a time: the nearest deadline of the head, the body or the linger; re-armed when it fires. */
    private ScheduledFuture<?> timer;
    /** Set while the connection lingers: the answer is out, the rest of the request is read and discarded. */
    private ChannelPromise lingering;
    private long lingerStarted;
    private long lastLingerRead;

    /** The settings, in nanoseconds. */
    record Settings(long requestHeadTimeout, long bodyReadTimeout, long bodyTimeout, long lingerTime) {

        static Settings of(HttpServerProperties properties) {
            return new Settings(properties.requestHeadTimeout().toNanos(), properties.bodyReadTimeout().toNanos(),
                    properties.bodyTimeout().toNanos(), properties.lingerTime().toNanos());
        }
    }

    private record DecoderFailure(HttpResponseStatus status, String method, String path) {
    }

    private HttpConnectionGuard(Settings settings, ApiErrorHandler errors, HttpRefusals refusals) {
        this.settings = settings;
        this.errors = errors;
        this.refusals = refusals;
    }

    /** Installs the guard around the HTTP/1.1 codec of {@code channel}, if it has one (else nothing). */
    static void install(Channel channel, Settings settings, ApiErrorHandler errors, HttpRefusals refusals) {
        ChannelPipeline pipeline = channel.pipeline();
        if (pipeline.get(NettyPipeline.HttpCodec) == null) {
            return;
        }
        HttpConnectionGuard guard = new HttpConnectionGuard(settings, errors, refusals);
        pipeline.addBefore(NettyPipeline.HttpCodec, WIRE_NAME, guard.new Wire());
        pipeline.addAfter(NettyPipeline.HttpCodec, NAME, guard);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Before the codec: sees the bytes, so it knows when a request head starts arriving. */
    final class Wire extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext wire, Object msg) {
            if (msg instanceof ByteBuf bytes && bytes.isReadable()) {
                if (lingering != null) {
                    lastLingerRead = System.nanoTime();
                } else if (!inBody && headStarted == 0 && !undecodable) {
                    headStarted = System.nanoTime();
                    requestStartLength = 0;
                    sniff(bytes);
                } else if (headStarted != 0 && requestStartLength < SNIFF) {
                    sniff(bytes);
                }
            }
            wire.fireChannelRead(msg);
        }
    }

    // ---- inbound, after the codec

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (lingering != null) {
            boolean last = msg instanceof LastHttpContent;
            ReferenceCountUtil.release(msg);
            if (last) {
                // The client sent all of it: a close now is a clean FIN after the answer.
                endLinger();
            }
            return;
        }
        if (msg instanceof HttpRequest request) {
            headStarted = 0;
            if (request.decoderResult().isFailure()) {
                DecoderFailure failure = decoderFailure(request);
                ReferenceCountUtil.release(msg);
                undecodable = true;
                inBody = false;
                if (responding || unanswered > 0) {
                    pendingFailure = failure;
                } else {
                    answer(failure);
                }
                return;
            } else {
                unanswered++;
                inBody = true;
                bodyMethod = request.method().name();
                bodyPath = pathOf(request.uri());
                bodyStarted = lastBodyRead = System.nanoTime();
            }
        } else if (msg instanceof HttpContent && inBody) {
            lastBodyRead = System.nanoTime();
        }
        if (msg instanceof LastHttpContent && inBody) {
            inBody = false;
        }
        ctx.fireChannelRead(msg);
    }

    /** After each read: a timer only if a head or body is still incomplete (most requests come in one read). */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (timer == null && (headStarted != 0 || inBody)) {
            arm();
        }
        ctx.fireChannelReadComplete();
    }

    private void arm() {
        long deadline = nextDeadline();
        if (deadline != Long.MAX_VALUE) {
            timer = ctx.executor().schedule(this::deadline, Math.max(0, deadline - System.nanoTime()),
                    TimeUnit.NANOSECONDS);
        }
    }

    /** The nearest deadline of what is incomplete now; MAX_VALUE: nothing is. */
    private long nextDeadline() {
        if (lingering != null) {
            return Math.min(lingerStarted + settings.lingerTime(), lastLingerRead + settings.bodyReadTimeout());
        }
        if (headStarted != 0) {
            return headStarted + settings.requestHeadTimeout();
        }
        if (inBody) {
            return Math.min(bodyStarted + settings.bodyTimeout(), lastBodyRead + settings.bodyReadTimeout());
        }
        return Long.MAX_VALUE;
    }

    private void deadline() {
        timer = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        long now = System.nanoTime();
        if (nextDeadline() - now > 0) {
            arm();
        } else if (lingering != null) {
            endLinger();
        } else if (headStarted != 0) {
            timeOut(HttpRefusals.Reason.HEAD_TIMEOUT,
                    "request head not received within " + seconds(settings.requestHeadTimeout()));
        } else if (now - bodyStarted >= settings.bodyTimeout()) {
            timeOut(HttpRefusals.Reason.BODY_TIMEOUT,
                    "request body not received within " + seconds(settings.bodyTimeout()));
        } else {
            timeOut(HttpRefusals.Reason.BODY_PAUSED,
                    "request body paused for more than " + seconds(settings.bodyReadTimeout()));
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        timer = cancel(timer);
        endLinger();
        ctx.fireChannelInactive();
    }

    // ---- outbound

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse response && response.status().code() >= 200) {
            responding = true;
        }
        boolean answered = msg instanceof LastHttpContent && responding;
        if (answered) {
            answeredEarly = inBody || undecodable;
            responding = false;
            unanswered = Math.max(0, unanswered - 1);
        }
        ctx.write(msg, promise);
        if (answered && unanswered == 0 && pendingFailure != null) {
            DecoderFailure failure = pendingFailure;
            pendingFailure = null;
            answer(failure);
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        boolean requestStillArriving = answeredEarly && (inBody || undecodable);
        if (lingering != null || timedOut || !requestStillArriving || !ctx.channel().isActive()
                || !(ctx.channel() instanceof DuplexChannel duplex) || duplex.isInputShutdown()) {
            ctx.close(promise);
            return;
        }
        linger(duplex, promise);
    }

    private void linger(DuplexChannel channel, ChannelPromise promise) {
        lingering = promise;
        timer = cancel(timer);
        lingerStarted = lastLingerRead = System.nanoTime();
        // What was written goes out, then a FIN: the client sees the answer and its end.
        ctx.flush();
        channel.shutdownOutput();
        arm();
        ctx.channel().config().setAutoRead(true);
        ctx.read();
    }

    private void endLinger() {
        ChannelPromise promise = lingering;
        if (promise == null) {
            return;
        }
        lingering = null;
        timer = cancel(timer);
        timedOut = true;
        ctx.close(promise);
    }

    // ---- answers

    /**
     * A timeout: 408 in the envelope when nothing else is being answered on the connection (an answer under way
     * would be interleaved with it), then close, at once.
     */
    private void timeOut(HttpRefusals.Reason why, String reason) {
        timedOut = true;
        refusals.count(why);
        boolean head = headStarted != 0;
        boolean canAnswer = !responding && (head ? unanswered == 0 : unanswered == 1);
        if (!canAnswer) {
            ctx.close();
            return;
        }
        String[] start = head ? requestLine(requestStart()) : new String[] {bodyMethod, bodyPath};
        // Reactor Netty has no request to answer (slow head), or one it is still reading (slow body) and whose
        // handler gives up when the connection closes.
        answerAndClose(HttpStatus.REQUEST_TIMEOUT, reason, start[0], start[1]);
    }

    /** A request head the decoder failed on: its answer, then close (lingering: the client may still be sending). */
    private void answer(DecoderFailure failure) {
        String reason = switch (failure.status().code()) {
            case 414 -> "request line too long: the method, path and query string must fit in the server's limit";
            case 431 -> "request headers too large";
            default -> "malformed HTTP request";
        };
        refusals.count(switch (failure.status().code()) {
            case 414 -> HttpRefusals.Reason.LINE_TOO_LONG;
            case 431 -> HttpRefusals.Reason.HEADERS_TOO_LARGE;
            default -> HttpRefusals.Reason.MALFORMED;
        });
        answeredEarly = true;
        answerAndClose(HttpStatus.valueOf(failure.status().code()), reason, failure.method(), failure.path());
    }

    /**
     * Writes the error envelope straight to the encoder, below Reactor Netty's HTTP handling (which has no exchange
     * for this answer), then closes the connection.
     */
    private void answerAndClose(HttpStatus status, String reason, String method, String path) {
        ApiErrorHandler.Reply reply = errors.reply(new ResponseStatusException(status, reason), method, path, null);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(reply.status()), Unpooled.wrappedBuffer(reply.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body().length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    private DecoderFailure decoderFailure(HttpRequest request) {
        Throwable cause = request.decoderResult().cause();
        HttpResponseStatus status = cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                : cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                        : HttpResponseStatus.BAD_REQUEST;
        String[] start = requestLine(requestStart());
        // The decoder's stand-in for a request it could not read has the path /bad-request: use the bytes seen.
        String path = status == HttpResponseStatus.REQUEST_URI_TOO_LONG || request.uri().equals("/bad-request")
                ? start[1] : pathOf(request.uri());
        String method = status == HttpResponseStatus.REQUEST_URI_TOO_LONG ? start[0] : request.method().name();
        return new DecoderFailure(status, method, path);
    }

    private void sniff(ByteBuf bytes) {
        int n = Math.min(SNIFF - requestStartLength, bytes.readableBytes());
        bytes.getBytes(bytes.readerIndex(), requestStart, requestStartLength, n);
        requestStartLength += n;
    }

    private String requestStart() {
        return new String(requestStart, 0, requestStartLength, StandardCharsets.ISO_8859_1);
    }

    /** Method and path from the first bytes of a request line; "GET" and "/" when they cannot be told. */
    static String[] requestLine(String start) {
        if (start == null) {
            return new String[] {"GET", "/"};
        }
        int space = start.indexOf(' ');
        if (space <= 0) {
            return new String[] {"GET", "/"};
        }
        String method = start.substring(0, space);
        int end = space + 1;
        while (end < start.length() && " ?\r\n".indexOf(start.charAt(end)) < 0) {
            end++;
        }
        String path = start.substring(space + 1, end);
        return new String[] {method, path.startsWith("/") ? path : "/"};
    }

    private static String pathOf(String uri) {
        int query = uri.indexOf('?');
        return query < 0 ? uri : uri.substring(0, query);
    }

    private static String seconds(long nanos) {
        Duration duration = Duration.ofNanos(nanos);
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + "s" : duration.toMillis() + "ms";
    }

    private static ScheduledFuture<?> cancel(ScheduledFuture<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
        return null;
    }
}

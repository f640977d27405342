package io.mlgateway.api;

import io.mlgateway.inferencelog.RequestIds;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * One JSON log line per answered API request (logger {@code access}): method, uri template, status, duration and
 * the request id, as fields. At tens of thousands of requests per second a line per request would cost more than
 * the request, so successful requests are sampled ({@code gateway.access-log.sample-rate}); errors (status 500 and
 * above, except 503 load shedding, which can come at the full request rate and is counted in
 * http_server_requests) and slow requests ({@code gateway.access-log.slow-threshold}) are always logged.
 *
 * <p>Request ids: a client's {@code X-Request-Id} is kept when it is 1-64 characters of letters, digits, '.', '_',
 * ':' or '-'; otherwise (absent, too long, odd characters) the gateway makes one. Either way it is echoed in the
 * response and is the {@code request_id} field of every log line about that request.
 */
@Component
public class AccessLog {

    public static final String HEADER = "X-Request-Id";
    /** Exchange attribute holding the request id on the WebFlux path. */
    public static final String ATTRIBUTE = AccessLog.class.getName() + ".requestId";

    private static final Logger log = LoggerFactory.getLogger("access");
    private static final Pattern VALID_ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    private final double sampleRate;
    private final long slowNanos;

    public AccessLog(AccessLogProperties properties) {
        this.sampleRate = properties.sampleRate();
        this.slowNanos = properties.slowThreshold().toNanos();
    }

    /** The client's id when it is acceptable, else a new one. */
    public static String requestId(String header) {
        return header != null && VALID_ID.matcher(header).matches() ? header : RequestIds.next().toString();
    }

    public void record(String method, String uri, int status, long nanos, String requestId) {
        boolean always = (status >= 500 && status != 503) || nanos >= slowNanos;
        if (!always && (sampleRate <= 0 || ThreadLocalRandom.current().nextDouble() >= sampleRate)) {
            return;
        }
        log.atInfo().addKeyValue("request_id", requestId).addKeyValue("method", method).addKeyValue("uri", uri)
                .addKeyValue("status", status).addKeyValue("duration_ms", nanos / 1_000_000.0)
                .addKeyValue("sampled", !always)
                .log("{} {} {}", method, uri, status);
    }
}

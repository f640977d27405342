package io.mlgateway.api;

import static io.mlgateway.shared.config.PropertyChecks.notNegative;
import static io.mlgateway.shared.config.PropertyChecks.positive;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How long the API port waits on a client ({@link HttpConnectionGuard}): slow clients are cut off by these
 * timeouts instead of holding a connection, a scoring slot or memory. Spring Boot's own keys cover the rest:
 * {@code server.netty.idle-timeout} (an idle keep-alive connection; infinite unless set),
 * {@code server.netty.max-initial-line-length} (4KB) and {@code server.max-http-request-header-size} (8KB).
 *
 * @param requestHeadTimeout from the first byte of a request until its request line and headers are in; past it
 *                           408 in the error envelope, and the connection is closed (a client sending its
 *                           headers a byte at a time)
 * @param bodyReadTimeout    longest pause while a request body is arriving; past it 408 (if the request is not
 *                           answered yet) and the connection is closed (a client that stalls mid-body)
 * @param bodyTimeout        from the end of the headers until the whole body is in; past it as for
 *                           body-read-timeout (a client that trickles its body just fast enough)
 * @param lingerTime         when the gateway answers before a request's body is all in (413, 401, …) and closes
 *                           the connection, how long it keeps reading and discarding the rest so that the client,
 *                           still sending, reads the answer instead of a reset; a pause of body-read-timeout
 *                           also ends it
 * @param shutdownDrain      on SIGTERM, how long the gateway keeps serving while its readiness answers 503, before
 *                           it stops taking requests: the time a load balancer that polls readiness needs to take
 *                           it out of rotation (HAProxy in deploy/compose: 2 checks, 2 s then 1 s apart). Closing
 *                           keep-alive connections the balancer still routes to races with requests already on the
 *                           wire: a request read as its connection closes is handled but never answered. 0 where
 *                           the platform stops routing first (the Kubernetes manifests' preStop sleep)
 */
@ConfigurationProperties(HttpServerProperties.PREFIX)
public record HttpServerProperties(
        @DefaultValue("10s") Duration requestHeadTimeout,
        @DefaultValue("10s") Duration bodyReadTimeout,
        @DefaultValue("60s") Duration bodyTimeout,
        @DefaultValue("30s") Duration lingerTime,
        @DefaultValue("0s") Duration shutdownDrain) {

    public static final String PREFIX = "gateway.http";

    public HttpServerProperties {
        positive(PREFIX + ".request-head-timeout", requestHeadTimeout);
        positive(PREFIX + ".body-read-timeout", bodyReadTimeout);
        positive(PREFIX + ".body-timeout", bodyTimeout);
        positive(PREFIX + ".linger-time", lingerTime);
        notNegative(PREFIX + ".shutdown-drain", shutdownDrain);
    }
}

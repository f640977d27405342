package io.mlgateway.api;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;

/**
 * Counts the requests {@link HttpConnectionGuard} refuses itself, below the routes: they never reach WebFlux or the
 * direct routes, so {@code http_server_requests} and the access log do not see them. One counter,
 * {@code gateway_http_refused_total{reason}}, the reason a fixed set: a slowloris wave shows as {@code head_timeout},
 * clients with over-long URLs as {@code line_too_long}.
 */
final class HttpRefusals {

    enum Reason {
        /** Request line and headers not in within {@code gateway.http.request-head-timeout}: 408. */
        HEAD_TIMEOUT("head_timeout"),
        /** Body not in within {@code gateway.http.body-timeout}: 408. */
        BODY_TIMEOUT("body_timeout"),
        /** Body paused longer than {@code gateway.http.body-read-timeout}: 408. */
        BODY_PAUSED("body_paused"),
        /** Request line over {@code server.netty.max-initial-line-length}: 414. */
        LINE_TOO_LONG("line_too_long"),
        /** Headers over {@code server.max-http-request-header-size}: 431. */
        HEADERS_TOO_LARGE("headers_too_large"),
        /** A request head the decoder could not read: 400. */
        MALFORMED("malformed");

        final String tag;

        Reason(String tag) {
            this.tag = tag;
        }
    }

    private final Map<Reason, Counter> counters = new EnumMap<>(Reason.class);

    HttpRefusals(MeterRegistry meters) {
        for (Reason reason : Reason.values()) {
            counters.put(reason, Counter.builder("gateway.http.refused")
                    .description("Requests refused by the connection guard before any route (timeouts, decoder failures)")
                    .tag("reason", reason.tag)
                    .register(meters));
        }
    }

    void count(Reason reason) {
        counters.get(reason).increment();
    }
}

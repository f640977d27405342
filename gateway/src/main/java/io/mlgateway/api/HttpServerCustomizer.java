package io.mlgateway.api;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import org.springframework.stereotype.Component;
import reactor.netty.ChannelPipelineConfigurer;
import reactor.netty.http.server.HttpServer;

/**
 * Puts {@link HttpConnectionGuard} on every connection of the API port (timeouts for slow clients, decoder
 * failures in the error envelope, lingering close), configured by {@link HttpServerProperties}; what it refuses is
 * counted by {@link HttpRefusals}.
 */
@Component
public class HttpServerCustomizer implements NettyServerCustomizer {

    private final HttpConnectionGuard.Settings settings;
    private final ApiErrorHandler errors;
    private final HttpRefusals refusals;

    public HttpServerCustomizer(HttpServerProperties properties, ApiErrorHandler errors, MeterRegistry meters) {
        this.settings = HttpConnectionGuard.Settings.of(properties);
        this.errors = errors;
        this.refusals = new HttpRefusals(meters);
    }

    @Override
    public HttpServer apply(HttpServer server) {
        ChannelPipelineConfigurer guard = (observer, channel, remoteAddress) ->
                HttpConnectionGuard.install(channel, settings, errors, refusals);
        ChannelPipelineConfigurer existing = server.configuration().doOnChannelInit();
        return server.doOnChannelInit(existing == null ? guard : existing.then(guard));
    }
}

package io.mlgateway.oip;

import static io.mlgateway.shared.config.PropertyChecks.between;
import static io.mlgateway.shared.config.PropertyChecks.positive;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The protocol's gRPC half ({@code inference.GRPCInferenceService}, io.mlgateway.grpc): its own port, beside the
 * REST API's.
 *
 * @param enabled         whether the gRPC port is opened at all
 * @param port            the port (Triton's convention: 8001 beside HTTP's 8000; here beside 8080); 0 picks a free
 *                        one (tests)
 * @param maxMessageSize  largest request message accepted, as {@code gateway.api.max-body-size} for a REST body;
 *                        beyond it the call fails RESOURCE_EXHAUSTED (64 rentals rows take 3 KB raw)
 * @param maxConcurrentCallsPerConnection calls one HTTP/2 connection may have open at once; a client's further calls
 *                        wait in the client for a stream (with max-message-size, this bounds what one connection can
 *                        make the gateway hold)
 * @param shutdownTimeout on shutdown, how long calls in flight may finish after the port stops taking new ones,
 *                        before they are cancelled
 */
@ConfigurationProperties(GrpcProperties.PREFIX)
public record GrpcProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("8001") int port,
        @DefaultValue("256KB") DataSize maxMessageSize,
        @DefaultValue("256") int maxConcurrentCallsPerConnection,
        @DefaultValue("20s") Duration shutdownTimeout) {

    public static final String PREFIX = "gateway.grpc";

    public GrpcProperties {
        between(PREFIX + ".port", port, 0, 65535);
        positive(PREFIX + ".max-message-size", maxMessageSize);
        between(PREFIX + ".max-concurrent-calls-per-connection", maxConcurrentCallsPerConnection, 1, 1 << 20);
        positive(PREFIX + ".shutdown-timeout", shutdownTimeout);
    }
}

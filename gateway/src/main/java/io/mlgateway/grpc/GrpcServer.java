package io.mlgateway.grpc;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import io.mlgateway.access.ApiKeys;
import io.mlgateway.oip.DataPlane;
import io.mlgateway.oip.GrpcProperties;
import io.mlgateway.scoring.ScoringProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * The gRPC port ({@code gateway.grpc.*}): the protocol's service behind the key check and Micrometer's gRPC
 * metrics ({@code grpc_server_*}, by service, method and status code), and gRPC's health service
 * ({@code grpc.health.v1.Health}, what Kubernetes' gRPC probes call) answering SERVING for the server ("") and the
 * protocol's service while the gateway is ready to score, as {@code /v2/health/ready} does.
 *
 * <p>Stops with the web server (the same lifecycle phase): health turns NOT_SERVING, the port stops taking calls,
 * calls in flight get {@code gateway.grpc.shutdown-timeout} to finish.
 */
@Component
public class GrpcServer implements SmartLifecycle {

    /** The web server's graceful shutdown phase (WebServerGracefulShutdownLifecycle): both drain together. */
    static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 1024;
    private static final Duration HEALTH_REFRESH = Duration.ofSeconds(1);
    private static final Logger log = LoggerFactory.getLogger(GrpcServer.class);

    private final GrpcProperties properties;
    private final DataPlane dataPlane;
    private final ApplicationAvailability availability;
    private final HealthStatusManager health = new HealthStatusManager();
    private final InferenceGrpcService service;
    private final GrpcAccess access;
    private final MetricCollectingServerInterceptor metrics;
    private volatile Server server;
    private volatile Disposable healthRefresh;

    public GrpcServer(GrpcProperties properties, DataPlane dataPlane, ApiKeys keys, ScoringProperties scoring,
            MeterRegistry meters, ApplicationAvailability availability) {
        this.properties = properties;
        this.dataPlane = dataPlane;
        this.availability = availability;
        this.service = new InferenceGrpcService(dataPlane, scoring.retryAfterSeconds());
        this.access = new GrpcAccess(keys, scoring.retryAfterSeconds());
        this.metrics = new MetricCollectingServerInterceptor(meters);
    }

    @Override
    public void start() {
        if (!properties.enabled()) {
            return;
        }
        Server built = NettyServerBuilder.forAddress(new InetSocketAddress(properties.port()))
                // The service only reads the message and subscribes; scoring hops to its own scheduler.
                .directExecutor()
                .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE, properties.maxMessageSize().toBytes()))
                .maxConcurrentCallsPerConnection(properties.maxConcurrentCallsPerConnection())
                .addService(ServerInterceptors.intercept(service, access, metrics))
                .addService(ServerInterceptors.intercept(health.getHealthService(), metrics))
                .build();
        try {
            built.start();
        } catch (IOException e) {
            throw new UncheckedIOException("gRPC port " + properties.port() + " could not be opened", e);
        }
        server = built;
        refreshHealth();
        healthRefresh = Flux.interval(HEALTH_REFRESH, Schedulers.parallel()).subscribe(tick -> refreshHealth());
        log.atInfo().addKeyValue("event", "grpc.started").addKeyValue("port", built.getPort())
                .log("gRPC ({}) on port {}", DataPlane.GRPC_SERVICE, built.getPort());
    }

    private void refreshHealth() {
        boolean ready = dataPlane.ready() && availability.getReadinessState() == ReadinessState.ACCEPTING_TRAFFIC;
        ServingStatus status = ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
        health.setStatus(DataPlane.GRPC_SERVICE, status);
    }

    @Override
    public void stop() {
        Server running = server;
        if (running == null) {
            return;
        }
        if (healthRefresh != null) {
            healthRefresh.dispose();
        }
        health.enterTerminalState();
        running.shutdown();
        try {
            if (!running.awaitTermination(properties.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                log.atWarn().addKeyValue("event", "grpc.shutdown_timeout")
                        .log("gRPC calls still running after {}; cancelling them", properties.shutdownTimeout());
                running.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running.shutdownNow();
        }
        server = null;
    }

    @Override
    public boolean isRunning() {
        return server != null;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }

    /** The port the server listens on (the configured one, or the one picked for port 0); -1 when not running. */
    public int port() {
        Server running = server;
        return running != null ? running.getPort() : -1;
    }
}

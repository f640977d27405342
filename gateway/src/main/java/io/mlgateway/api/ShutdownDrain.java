package io.mlgateway.api;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * On shutdown, keeps the gateway serving for {@code gateway.http.shutdown-drain} after its readiness turned to 503
 * (Spring Boot refuses traffic as the context starts closing) and before anything stops: a balancer polling
 * readiness takes the instance out of rotation meanwhile, so the web server's graceful shutdown then closes
 * keep-alive connections nobody sends on any more.
 *
 * <p>It waits on the thread closing the context, which does nothing else until the web server has stopped;
 * ordered first so the management port (readiness) is still answering during the wait.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class ShutdownDrain implements ApplicationListener<ContextClosedEvent> {

    private static final Logger log = LoggerFactory.getLogger(ShutdownDrain.class);

    private final ApplicationContext context;
    private final Duration drain;

    public ShutdownDrain(ApplicationContext context, HttpServerProperties properties) {
        this.context = context;
        this.drain = properties.shutdownDrain();
    }

    @Override
    public void onApplicationEvent(ContextClosedEvent event) {
        // The management port's child context announces its own close to this one too.
        if (event.getApplicationContext() != context || drain.isZero()) {
            return;
        }
        log.atInfo().addKeyValue("event", "shutdown.drain").addKeyValue("drain_ms", drain.toMillis())
                .log("not ready; serving for {} more before stopping", drain);
        try {
            Thread.sleep(drain.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

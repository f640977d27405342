package io.mlgateway.shared.lifecycle;

import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;

/**
 * A background Reactor pipeline that lives as long as the application context: subscribed on start, disposed on
 * stop. Subclasses only say what to subscribe.
 */
public abstract class SubscriptionLifecycle implements SmartLifecycle {

    private volatile Disposable running;

    /** Builds and subscribes the pipeline; called once per start. */
    protected abstract Disposable subscribe();

    @Override
    public void start() {
        running = subscribe();
    }

    @Override
    public void stop() {
        Disposable d = running;
        running = null;
        if (d != null) {
            d.dispose();
        }
    }

    @Override
    public boolean isRunning() {
        return running != null;
    }
}

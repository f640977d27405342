package io.mlgateway.modelstore;

import io.mlgateway.core.training.BoosterTrainer;
import java.util.concurrent.atomic.AtomicInteger;
import ml.dmlc.xgboost4j.java.Booster;

/**
 * A deserialized booster in memory, shared by concurrent requests. Its native memory is freed exactly once, and
 * only when it has been retired (evicted or replaced) and no request holds it any more: a hot swap never pulls a
 * booster from under an in-flight prediction.
 */
public final class LoadedModel {

    /** Low bit: retired. The rest: twice the number of holders. */
    private final AtomicInteger state = new AtomicInteger();
    private final Booster booster;
    private final long version;
    private final boolean base;
    private final int sizeBytes;
    private volatile boolean disposed;

    public LoadedModel(Booster booster, long version, boolean base, int sizeBytes) {
        this.booster = booster;
        this.version = version;
        this.base = base;
        this.sizeBytes = sizeBytes;
    }

    public long version() {
        return version;
    }

    public boolean isBase() {
        return base;
    }

    public int sizeBytes() {
        return sizeBytes;
    }

    /** Takes a hold for one use; false once retired (the caller resolves again). */
    public boolean tryAcquire() {
        while (true) {
            int s = state.get();
            if ((s & 1) != 0) {
                return false;
            }
            if (state.compareAndSet(s, s + 2)) {
                return true;
            }
        }
    }

    public void release() {
        int s = state.addAndGet(-2);
        if (s == 1) {
            dispose();
        }
    }

    /** No new holds from now on; frees the booster now or when its last holder releases it. */
    public void retire() {
        while (true) {
            int s = state.get();
            if ((s & 1) != 0) {
                return;
            }
            if (state.compareAndSet(s, s | 1)) {
                if (s == 0) {
                    dispose();
                }
                return;
            }
        }
    }

    public boolean isDisposed() {
        return disposed;
    }

    private void dispose() {
        disposed = true;
        booster.dispose();
    }

    /** Scores {@code rows} rows of features in model order; the caller must hold this model. */
    public float[] predict(float[] rowMajorFeatures, int rows) {
        return BoosterTrainer.predict(booster, rowMajorFeatures, rows);
    }
}

package io.mlgateway.modelstore;

import io.mlgateway.shared.trees.ScoringModel;

/**
 * A rentals model in this instance's memory, ready to score: plain Java arrays in their compact form, shared by
 * concurrent requests and collected by the garbage collector when nothing references it any more (a swap simply
 * replaces the reference). It cannot explain itself: {@link ModelLoader#explainable} reads the stored form.
 *
 * @param version the registry version it was loaded from
 * @param base    whether this is the shared base model (served to every user without a model of its own)
 */
public record ServedModel(long version, boolean base, ScoringModel scoring) {

    /** The prediction for the row starting at {@code offset} (rentals features in model order). */
    public float predict(float[] rows, int offset) {
        return scoring.predict(rows, offset);
    }

    /** Predictions for {@code count} consecutive rows. */
    public float[] predictAll(float[] rows, int count) {
        return scoring.predictAll(rows, count);
    }

    /** Heap bytes this model holds beyond a shared base it builds on. */
    public long ownFootprintBytes() {
        return scoring.ownFootprintBytes();
    }
}

package io.mlgateway.shared.trees;

/**
 * A model ready to score: its own trees, in their compact form ({@link CompactTrees}), added to a starting margin,
 * which is either a constant (the intercept of a model that stands alone) or the prediction of its base model. A
 * user's model built on the shared base holds a reference to the base's {@code ScoringModel}, never a copy: in
 * memory, a user costs only its own trees. It holds nothing an explanation needs (covers): explaining takes the
 * stored form, {@link TreeModel#contributions}.
 *
 * <p>The sum runs in float, intercept first, then every tree in order (the base's before the user's own): the
 * order XGBoost's predictor uses, so results equal xgboost4j's bit for bit (ScoringParityTest).
 */
public final class ScoringModel {

    /** Heap bytes of this object (header, two references, a float), as {@link CompactTrees#footprintBytes} counts. */
    private static final int OBJECT_BYTES = 24;

    private final ScoringModel base;
    private final float intercept;
    private final CompactTrees trees;

    private ScoringModel(ScoringModel base, float intercept, CompactTrees trees) {
        this.base = base;
        this.intercept = intercept;
        this.trees = trees;
    }

    /** {@code intercept + trees}. */
    public static ScoringModel standalone(float intercept, TreeEnsemble trees) {
        return new ScoringModel(null, intercept, CompactTrees.of(trees));
    }

    /** {@code base's prediction + trees}. */
    public static ScoringModel layered(ScoringModel base, TreeEnsemble trees) {
        if (base.features() != trees.features()) {
            throw new IllegalArgumentException("trees over " + trees.features() + " features cannot build on a base over "
                    + base.features());
        }
        return new ScoringModel(base, 0f, CompactTrees.of(trees));
    }

    /** The prediction for the row of {@link #features()} values starting at {@code offset}. */
    public float predict(float[] rows, int offset) {
        float margin = base == null ? intercept : base.predict(rows, offset);
        return trees.accumulate(margin, rows, offset);
    }

    /** Predictions for {@code count} rows stored one after another. */
    public float[] predictAll(float[] rows, int count) {
        int width = features();
        if (rows.length < count * width) {
            throw new IllegalArgumentException(count + " rows of " + width + " need " + count * width + " values, got "
                    + rows.length);
        }
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            out[i] = predict(rows, i * width);
        }
        return out;
    }

    public int features() {
        return trees.features();
    }

    /** Trees evaluated per row, the base's included. */
    public int trees() {
        return trees.trees() + (base == null ? 0 : base.trees());
    }

    /** This model's own trees (those a base, if any, does not hold). */
    public CompactTrees ownTrees() {
        return trees;
    }

    /** The model this one builds on, or null. */
    public ScoringModel base() {
        return base;
    }

    /** Heap bytes of what this model holds alone, not counting a shared base. */
    public long ownFootprintBytes() {
        return trees.footprintBytes() + OBJECT_BYTES;
    }
}

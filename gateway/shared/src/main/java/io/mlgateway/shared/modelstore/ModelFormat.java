package io.mlgateway.shared.modelstore;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.trees.XGBoostTrees;
import io.mlgateway.shared.trees.TreeEnsemble;
import io.mlgateway.shared.trees.TreeModel;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * How rentals models are stored, in the registry and in Redis: the format name is stored beside the bytes. A model
 * decodes only if it reads exactly the {@link RentalFeatures} a rentals row has.
 *
 * <p>{@value #TREES}, written by everything now: a {@link TreeModel} in a compact binary layout that decodes
 * straight into the arrays the Java scoring engine evaluates (no parsing, microseconds for a user's few trees).
 * Little-endian:
 * <pre>
 *   int    magic 0x4D475431 ("MGT1")
 *   byte   flags (bit 0: layered)
 *   long   base version        (only when layered)
 *   float  intercept            (0 when layered)
 *   int    features, trees, nodes
 *   int[trees]  roots
 *   int[nodes]  left, int[nodes] split, float[nodes] value, float[nodes] cover   (TreeEnsemble's layout)
 * </pre>
 *
 * <p>{@value #XGBOOST_UBJ}: XGBoost's Universal Binary JSON, what versions stored before the Java engine hold.
 * Still read (converted through xgboost4j, milliseconds), never written; such a model stands alone.
 */
public final class ModelFormat {

    public static final String TREES = "trees-v1";
    public static final String XGBOOST_UBJ = "xgboost-ubj";

    private static final int MAGIC = 0x4D475431;
    private static final int HEADER_BYTES = 4 + 1 + 4 + 4 + 4 + 4;
    /** Far above any real model (a 400-tree depth-6 model has ~50,000 nodes): refuses absurd sizes before allocating. */
    private static final int MAX_NODES = 50_000_000;

    private ModelFormat() {
    }

    public static byte[] encode(TreeModel model) {
        TreeEnsemble.Layout trees = model.trees().layout();
        int nodes = trees.left().length;
        int size = HEADER_BYTES + (model.isLayered() ? 8 : 0) + 4 * trees.roots().length + 16 * nodes;
        ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(MAGIC);
        out.put((byte) (model.isLayered() ? 1 : 0));
        if (model.isLayered()) {
            out.putLong(model.baseVersion());
        }
        out.putFloat(model.intercept());
        out.putInt(model.trees().features()).putInt(trees.roots().length).putInt(nodes);
        out.asIntBuffer().put(trees.roots());
        out.position(out.position() + 4 * trees.roots().length);
        out.asIntBuffer().put(trees.left());
        out.position(out.position() + 4 * nodes);
        out.asIntBuffer().put(trees.split());
        out.position(out.position() + 4 * nodes);
        out.asFloatBuffer().put(trees.value());
        out.position(out.position() + 4 * nodes);
        out.asFloatBuffer().put(trees.cover());
        return out.array();
    }

    /**
     * The model stored as {@code bytes} in {@code format}.
     *
     * @throws IllegalArgumentException for an unknown format or bytes that are not a well-formed model
     */
    public static TreeModel decode(String format, byte[] bytes) {
        if (XGBOOST_UBJ.equals(format)) {
            return XGBoostTrees.fromUbj(bytes);
        }
        if (!TREES.equals(format)) {
            throw new IllegalArgumentException("unknown model format '" + format + "'");
        }
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            if (in.getInt() != MAGIC) {
                throw new IllegalArgumentException("not a " + TREES + " model (bad magic)");
            }
            boolean layered = (in.get() & 1) != 0;
            Long baseVersion = layered ? in.getLong() : null;
            float intercept = in.getFloat();
            int features = in.getInt();
            if (features != RentalFeatures.COUNT) {
                throw new IllegalArgumentException("model reads " + features + " features, rentals rows have "
                        + RentalFeatures.COUNT);
            }
            int trees = in.getInt();
            int nodes = in.getInt();
            if (trees < 0 || nodes < 0 || nodes > MAX_NODES || trees > nodes
                    || in.remaining() != 4L * trees + 16L * nodes) {
                throw new IllegalArgumentException("model header does not match its length (" + trees + " trees, "
                        + nodes + " nodes, " + in.remaining() + " bytes)");
            }
            int[] roots = ints(in, trees);
            int[] left = ints(in, nodes);
            int[] split = ints(in, nodes);
            float[] value = floats(in, nodes);
            float[] cover = floats(in, nodes);
            TreeEnsemble ensemble = TreeEnsemble.of(features, roots, left, split, value, cover);
            return new TreeModel(baseVersion, intercept, ensemble);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated " + TREES + " model", e);
        }
    }

    private static int[] ints(ByteBuffer in, int n) {
        int[] out = new int[n];
        in.asIntBuffer().get(out);
        in.position(in.position() + 4 * n);
        return out;
    }

    private static float[] floats(ByteBuffer in, int n) {
        float[] out = new float[n];
        in.asFloatBuffer().get(out);
        in.position(in.position() + 4 * n);
        return out;
    }
}

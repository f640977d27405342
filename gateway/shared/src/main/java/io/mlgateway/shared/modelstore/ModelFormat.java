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
 * <p>{@value #TREES}, written by everything now: a {@link TreeModel} node by node, 9 bytes a node (a policy-sized
 * user's 50 trees: ~50 KB). Little-endian:
 * <pre>
 *   int    magic 0x4D475432 ("MGT2")
 *   byte   flags (bit 0: layered)
 *   long   base version        (only when layered)
 *   float  intercept            (0 when layered)
 *   int    features, trees, nodes
 *   byte[nodes]   split: feature index shifted left once, low bit set when a missing value goes left; 0xFF a leaf
 *   float[nodes]  value: a split's threshold, a leaf's output
 *   float[nodes]  cover: the training weight that reached the node (explanations only)
 * </pre>
 * Nodes are in {@link TreeEnsemble}'s order: tree after tree, each breadth-first with the two children of a split
 * side by side. That order makes the structure implicit: the k-th split of a tree (counting from 0) has its children
 * at nodes {@code 2k + 1} and {@code 2k + 2} of the tree, and a tree with k splits ends after {@code 2k + 1} nodes,
 * so no child index or tree length is stored.
 *
 * <p>Read, never written: {@value #TREES_V1}, the arrays as the engine held them before (16 bytes a node: left child,
 * split, value, cover as ints and floats, each tree's first node), and {@value #XGBOOST_UBJ}, XGBoost's Universal
 * Binary JSON, what versions stored before the Java engine hold (converted through xgboost4j, milliseconds; such a
 * model stands alone).
 */
public final class ModelFormat {

    public static final String TREES = "trees-v2";
    public static final String TREES_V1 = "trees-v1";
    public static final String XGBOOST_UBJ = "xgboost-ubj";

    private static final int MAGIC = 0x4D475432;
    private static final int MAGIC_V1 = 0x4D475431;
    private static final int HEADER_BYTES = 4 + 1 + 4 + 4 + 4 + 4;
    private static final byte LEAF = (byte) 0xFF;
    /** Features a split byte can name besides the leaf mark. */
    private static final int MAX_FEATURES = 127;
    /** Far above any real model (a 400-tree depth-6 model has ~50,000 nodes): refuses absurd sizes before allocating. */
    private static final int MAX_NODES = 50_000_000;

    private ModelFormat() {
    }

    /**
     * {@code model} in {@value #TREES}.
     *
     * @throws IllegalArgumentException for trees over more than 127 features or not in {@link TreeEnsemble}'s
     *                                  breadth-first order (every ensemble the builder makes is)
     */
    public static byte[] encode(TreeModel model) {
        TreeEnsemble.Layout trees = model.trees().layout();
        if (model.trees().features() > MAX_FEATURES) {
            throw new IllegalArgumentException(TREES + " stores models over up to " + MAX_FEATURES + " features");
        }
        int[] roots = trees.roots();
        int[] left = trees.left();
        int nodes = left.length;
        byte[] splits = new byte[nodes];
        for (int t = 0; t < roots.length; t++) {
            int start = roots[t];
            int end = t + 1 < roots.length ? roots[t + 1] : nodes;
            int seen = 0;
            for (int node = start; node < end; node++) {
                if (left[node] == TreeEnsemble.LEAF) {
                    splits[node] = LEAF;
                    continue;
                }
                if (left[node] != start + 2 * seen + 1) {
                    throw new IllegalArgumentException("tree " + t + " is not laid out breadth-first");
                }
                seen++;
                splits[node] = (byte) trees.split()[node];
            }
            if (end - start != 2 * seen + 1) {
                throw new IllegalArgumentException("tree " + t + " has nodes its splits do not reach");
            }
        }
        int size = HEADER_BYTES + (model.isLayered() ? 8 : 0) + 9 * nodes;
        ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(MAGIC);
        out.put((byte) (model.isLayered() ? 1 : 0));
        if (model.isLayered()) {
            out.putLong(model.baseVersion());
        }
        out.putFloat(model.intercept());
        out.putInt(model.trees().features()).putInt(roots.length).putInt(nodes);
        out.put(splits);
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
        boolean v1 = TREES_V1.equals(format);
        if (!v1 && !TREES.equals(format)) {
            throw new IllegalArgumentException("unknown model format '" + format + "'");
        }
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            if (in.getInt() != (v1 ? MAGIC_V1 : MAGIC)) {
                throw new IllegalArgumentException("not a " + format + " model (bad magic)");
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
            long expected = v1 ? 4L * trees + 16L * nodes : 9L * nodes;
            if (trees < 0 || nodes < 0 || nodes > MAX_NODES || trees > nodes || in.remaining() != expected) {
                throw new IllegalArgumentException("model header does not match its length (" + trees + " trees, "
                        + nodes + " nodes, " + in.remaining() + " bytes)");
            }
            TreeEnsemble ensemble = v1 ? readV1(in, features, trees, nodes) : read(in, features, trees, nodes);
            return new TreeModel(baseVersion, intercept, ensemble);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated " + format + " model", e);
        }
    }

    private static TreeEnsemble read(ByteBuffer in, int features, int trees, int nodes) {
        byte[] splits = new byte[nodes];
        in.get(splits);
        float[] value = floats(in, nodes);
        float[] cover = floats(in, nodes);
        int[] roots = new int[trees];
        int[] left = new int[nodes];
        int[] split = new int[nodes];
        int node = 0;
        for (int t = 0; t < trees; t++) {
            if (node >= nodes) {
                throw new IllegalArgumentException("the nodes end before tree " + t);
            }
            int start = node;
            roots[t] = start;
            int seen = 0;
            // A tree with k splits has 2k + 1 nodes; the k-th split's children are nodes 2k + 1 and 2k + 2.
            for (; node - start < 2 * seen + 1; node++) {
                if (node >= nodes) {
                    throw new IllegalArgumentException("tree " + t + " runs past the last node");
                }
                if (splits[node] == LEAF) {
                    left[node] = TreeEnsemble.LEAF;
                    continue;
                }
                left[node] = start + 2 * seen + 1;
                split[node] = splits[node] & 0xFF;
                seen++;
            }
        }
        if (node != nodes) {
            throw new IllegalArgumentException((nodes - node) + " nodes after the last tree");
        }
        return TreeEnsemble.of(features, roots, left, split, value, cover);
    }

    private static TreeEnsemble readV1(ByteBuffer in, int features, int trees, int nodes) {
        int[] roots = ints(in, trees);
        int[] left = ints(in, nodes);
        int[] split = ints(in, nodes);
        float[] value = floats(in, nodes);
        float[] cover = floats(in, nodes);
        return TreeEnsemble.of(features, roots, left, split, value, cover);
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

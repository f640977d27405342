package io.mlgateway.shared.trees;

import java.util.Arrays;

/**
 * The form in which trees are held to score: only what evaluation reads, at the width it needs. Built from a
 * {@link TreeEnsemble} (the full form, which also keeps each node's cover for explanations); scores every row exactly
 * as it does, bit for bit: the same float comparisons, the same leaf values, summed in the same order.
 *
 * <p>Each tree takes one of two layouts, whichever is smaller:
 * <ul>
 *   <li><b>complete</b>, for a tree of depth {@code d} (at most {@value #MAX_COMPLETE_DEPTH}): its nodes as a heap
 *       of {@code 2^(d+1) - 1} floats, the {@code 2^d - 1} split thresholds first and the {@code 2^d} leaf values
 *       after them, plus a split byte per threshold. Node {@code i}'s children are {@code 2i + 1} and
 *       {@code 2i + 2}: no child index is stored, and a row always takes {@code d} steps. A leaf above the bottom
 *       level is copied into every slot below it (the splits over those slots then cannot change the answer).
 *       A policy-sized user tree (depth 6, ~110 of 127 nodes) takes 571 bytes here, 7 bytes a node below.</li>
 *   <li><b>nodes</b>, for sparse trees: XGBoost's nodes breadth-first, children of a split side by side, each node a
 *       float (threshold or leaf value) and three bytes: its split byte and the 16-bit offset of its left child
 *       (0 for a leaf).</li>
 * </ul>
 * A split byte is the feature index shifted left once with the low bit set when a missing value (NaN) goes left,
 * so the compact form holds models over up to {@value #MAX_FEATURES} features.
 *
 * <p>Immutable and safe to share between threads.
 */
public final class CompactTrees {

    /** Deepest tree held complete: a deeper one takes the node layout whatever its shape. */
    static final int MAX_COMPLETE_DEPTH = 12;
    /** Features a split byte can name. */
    public static final int MAX_FEATURES = 128;
    /** Nodes of one tree in the node layout: child offsets are 16 bits. */
    static final int MAX_TREE_NODES = 65_536;
    private static final int NODE_LAYOUT = -1;
    private static final int NODE_SPLIT_BYTES = 3;

    private final int features;
    /** Per tree: its first value. */
    private final int[] valueStart;
    /** Per tree: its first split byte. */
    private final int[] splitStart;
    /** Per tree: the depth of a complete tree, or {@value #NODE_LAYOUT}. */
    private final byte[] depth;
    private final float[] values;
    private final byte[] splits;

    private CompactTrees(int features, int[] valueStart, int[] splitStart, byte[] depth, float[] values,
            byte[] splits) {
        this.features = features;
        this.valueStart = valueStart;
        this.splitStart = splitStart;
        this.depth = depth;
        this.values = values;
        this.splits = splits;
    }

    /**
     * The compact form of {@code trees}.
     *
     * @throws IllegalArgumentException over more than {@value #MAX_FEATURES} features, or for a sparse tree of more
     *                                  than {@value #MAX_TREE_NODES} nodes
     */
    public static CompactTrees of(TreeEnsemble trees) {
        if (trees.features() > MAX_FEATURES) {
            throw new IllegalArgumentException("the compact form holds models over up to " + MAX_FEATURES
                    + " features, not " + trees.features());
        }
        int[] roots = trees.roots();
        int[] left = trees.left();
        int count = roots.length;
        int[] depths = new int[count];
        int[] nodes = new int[count];
        long valueCount = 0;
        long splitCount = 0;
        for (int t = 0; t < count; t++) {
            int start = roots[t];
            int end = t + 1 < count ? roots[t + 1] : left.length;
            nodes[t] = end - start;
            int d = depth(left, start);
            long complete = 4L * ((2L << d) - 1) + ((1L << d) - 1);
            if (d <= MAX_COMPLETE_DEPTH && complete <= (4L + NODE_SPLIT_BYTES) * nodes[t]) {
                depths[t] = d;
                valueCount += (2L << d) - 1;
                splitCount += (1L << d) - 1;
            } else {
                if (nodes[t] > MAX_TREE_NODES) {
                    throw new IllegalArgumentException("tree " + t + " has " + nodes[t] + " nodes; the compact form"
                            + " holds sparse trees of up to " + MAX_TREE_NODES);
                }
                depths[t] = NODE_LAYOUT;
                valueCount += nodes[t];
                splitCount += (long) NODE_SPLIT_BYTES * nodes[t];
            }
        }
        if (valueCount > Integer.MAX_VALUE - 16 || splitCount > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("model too large for the compact form");
        }
        float[] values = new float[(int) valueCount];
        byte[] splits = new byte[(int) splitCount];
        int[] valueStart = new int[count];
        int[] splitStart = new int[count];
        byte[] depth = new byte[count];
        int v = 0;
        int s = 0;
        for (int t = 0; t < count; t++) {
            valueStart[t] = v;
            splitStart[t] = s;
            depth[t] = (byte) depths[t];
            if (depths[t] == NODE_LAYOUT) {
                placeNodes(trees, roots[t], nodes[t], values, v, splits, s);
                v += nodes[t];
                s += NODE_SPLIT_BYTES * nodes[t];
            } else {
                placeComplete(trees, roots[t], 0, 0, depths[t], values, v, splits, s);
                v += (2 << depths[t]) - 1;
                s += (1 << depths[t]) - 1;
            }
        }
        return new CompactTrees(trees.features(), valueStart, splitStart, depth, values, splits);
    }

    /** Levels below the root of the tree at {@code root} (0 for a lone leaf). */
    private static int depth(int[] left, int root) {
        int deepest = 0;
        int[] stack = new int[64];
        int[] level = new int[64];
        int top = 0;
        stack[top] = root;
        level[top++] = 0;
        while (top > 0) {
            int node = stack[--top];
            int l = level[top];
            deepest = Math.max(deepest, l);
            int child = left[node];
            if (child != TreeEnsemble.LEAF) {
                if (top + 2 > stack.length) {
                    stack = Arrays.copyOf(stack, stack.length * 2);
                    level = Arrays.copyOf(level, level.length * 2);
                }
                stack[top] = child;
                level[top++] = l + 1;
                stack[top] = child + 1;
                level[top++] = l + 1;
            }
        }
        return deepest;
    }

    /** Puts the subtree of {@code node} at heap slot {@code slot} of a complete tree of depth {@code d}. */
    private static void placeComplete(TreeEnsemble trees, int node, int slot, int level, int d, float[] values,
            int v, byte[] splits, int s) {
        int child = trees.left()[node];
        if (level == d) {
            values[v + slot] = trees.value()[node];
            return;
        }
        if (child == TreeEnsemble.LEAF) {
            // A leaf above the bottom: every slot under it leads to a copy of it, whatever the split says.
            placeComplete(trees, node, 2 * slot + 1, level + 1, d, values, v, splits, s);
            placeComplete(trees, node, 2 * slot + 2, level + 1, d, values, v, splits, s);
            return;
        }
        values[v + slot] = trees.value()[node];
        splits[s + slot] = (byte) trees.split()[node];
        placeComplete(trees, child, 2 * slot + 1, level + 1, d, values, v, splits, s);
        placeComplete(trees, child + 1, 2 * slot + 2, level + 1, d, values, v, splits, s);
    }

    private static void placeNodes(TreeEnsemble trees, int root, int n, float[] values, int v, byte[] splits,
            int s) {
        for (int i = 0; i < n; i++) {
            int node = root + i;
            values[v + i] = trees.value()[node];
            int child = trees.left()[node];
            if (child != TreeEnsemble.LEAF) {
                int offset = child - node;
                splits[s + NODE_SPLIT_BYTES * i] = (byte) trees.split()[node];
                splits[s + NODE_SPLIT_BYTES * i + 1] = (byte) offset;
                splits[s + NODE_SPLIT_BYTES * i + 2] = (byte) (offset >>> 8);
            }
        }
    }

    /** Adds every tree's output for one row to {@code margin}, tree by tree in order, in float as XGBoost does. */
    public float accumulate(float margin, float[] rows, int offset) {
        final float[] values = this.values;
        final byte[] splits = this.splits;
        float sum = margin;
        for (int t = 0; t < depth.length; t++) {
            int v = valueStart[t];
            int s = splitStart[t];
            int d = depth[t];
            int i = 0;
            if (d != NODE_LAYOUT) {
                for (int level = 0; level < d; level++) {
                    int split = splits[s + i] & 0xFF;
                    float x = rows[offset + (split >>> 1)];
                    boolean goLeft = x != x ? (split & 1) != 0 : x < values[v + i];
                    i = 2 * i + (goLeft ? 1 : 2);
                }
            } else {
                int at;
                int child;
                while ((child = (splits[(at = s + NODE_SPLIT_BYTES * i) + 1] & 0xFF)
                        | (splits[at + 2] & 0xFF) << 8) != 0) {
                    int split = splits[at] & 0xFF;
                    float x = rows[offset + (split >>> 1)];
                    boolean goLeft = x != x ? (split & 1) != 0 : x < values[v + i];
                    i += goLeft ? child : child + 1;
                }
            }
            sum += values[v + i];
        }
        return sum;
    }

    public int features() {
        return features;
    }

    public int trees() {
        return depth.length;
    }

    /** Trees held in the complete layout (the rest take the node layout). */
    public int completeTrees() {
        int complete = 0;
        for (byte d : depth) {
            complete += d == NODE_LAYOUT ? 0 : 1;
        }
        return complete;
    }

    /**
     * Heap bytes of this object and its arrays, as a 64-bit HotSpot JVM with compressed references lays them out
     * (12-byte object headers, 16-byte array headers, 8-byte alignment): what the memory tier counts. Checked
     * against a heap histogram by the gateway's ModelMemoryTest.
     */
    public long footprintBytes() {
        return align(12 + 4 + 5 * 4) + intArray(valueStart.length) + intArray(splitStart.length)
                + byteArray(depth.length) + align(16 + 4L * values.length) + byteArray(splits.length);
    }

    static long align(long bytes) {
        return (bytes + 7) & ~7L;
    }

    private static long intArray(int length) {
        return align(16 + 4L * length);
    }

    private static long byteArray(int length) {
        return align(16 + (long) length);
    }

    @Override
    public String toString() {
        return "CompactTrees[" + depth.length + " trees (" + completeTrees() + " complete), " + values.length
                + " values, " + footprintBytes() + " bytes]";
    }
}

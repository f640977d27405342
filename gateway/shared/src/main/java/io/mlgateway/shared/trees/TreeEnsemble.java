package io.mlgateway.shared.trees;

import java.util.Arrays;

/**
 * Regression trees in flat primitive arrays, node by node with everything XGBoost knows of a node: the full form,
 * which training produces, storage encodes and explanations walk ({@link TreeShap} needs each node's cover). What
 * scores in the gateway is the smaller {@link CompactTrees} built from it; {@link #accumulate} evaluates this form
 * directly (the retrainer's and the tests' reference walk).
 *
 * <p>Nodes of all trees live in one set of parallel arrays, tree after tree. Within a tree they are laid out
 * breadth-first with the two children of a node next to each other, so a split needs only its left child's index
 * (the right child is the next node). Per node:
 * <ul>
 *   <li>{@code left}: the left child's index, or {@value #LEAF} for a leaf;</li>
 *   <li>{@code split}: the feature tested, shifted left once, with the low bit set when a missing value (NaN)
 *       goes left;</li>
 *   <li>{@code value}: a split's threshold (go left when {@code x < threshold}, as XGBoost decides) or a leaf's
 *       output;</li>
 *   <li>{@code cover}: the training weight (sum of hessians) that reached the node, kept for explanations.</li>
 * </ul>
 * Every child's index is greater than its parent's and inside its tree: checked when an ensemble is built or
 * decoded, so a corrupt model cannot make evaluation loop or read outside the arrays.
 *
 * <p>Immutable and safe to share between threads.
 */
public final class TreeEnsemble {

    public static final int LEAF = -1;

    private final int features;
    private final int[] roots;
    private final int[] left;
    private final int[] split;
    private final float[] value;
    private final float[] cover;

    private TreeEnsemble(int features, int[] roots, int[] left, int[] split, float[] value, float[] cover) {
        this.features = features;
        this.roots = roots;
        this.left = left;
        this.split = split;
        this.value = value;
        this.cover = cover;
    }

    /** No trees: adds nothing to a margin. */
    public static TreeEnsemble empty(int features) {
        return new TreeEnsemble(features, new int[0], new int[0], new int[0], new float[0], new float[0]);
    }

    /**
     * An ensemble from its arrays in this class's layout (as {@code ModelFormat} decodes them), validated.
     *
     * @param roots index of each tree's first node; tree {@code t} spans {@code roots[t]} up to the next root
     * @throws IllegalArgumentException if the arrays do not describe well-formed trees
     */
    public static TreeEnsemble of(int features, int[] roots, int[] left, int[] split, float[] value, float[] cover) {
        TreeEnsemble ensemble = new TreeEnsemble(features, roots, left, split, value, cover);
        ensemble.validate();
        return ensemble;
    }

    /** Adds every tree's output for one row to {@code margin}, tree by tree in order, in float as XGBoost does. */
    public float accumulate(float margin, float[] rows, int offset) {
        final int[] left = this.left;
        final int[] split = this.split;
        final float[] value = this.value;
        float sum = margin;
        for (int root : roots) {
            int node = root;
            int child;
            while ((child = left[node]) != LEAF) {
                int s = split[node];
                float x = rows[offset + (s >>> 1)];
                boolean goLeft = x != x ? (s & 1) != 0 : x < value[node];
                node = goLeft ? child : child + 1;
            }
            sum += value[node];
        }
        return sum;
    }

    public int features() {
        return features;
    }

    public int trees() {
        return roots.length;
    }

    public int nodes() {
        return left.length;
    }

    /*
     * The node arrays themselves, not copies, for code in this package that walks the trees some other way than
     * accumulate does (TreeShap), without copying the whole model per request. Callers must not write to them: the
     * ensemble is shared between threads and models on the promise that it never changes.
     */

    /** Index of each tree's first node. Not a copy: read only. */
    int[] roots() {
        return roots;
    }

    /** Per node, its left child's index (the right child is the next node) or {@value #LEAF}. Not a copy: read only. */
    int[] left() {
        return left;
    }

    /** Per node, the feature tested shifted left once, low bit set when NaN goes left. Not a copy: read only. */
    int[] split() {
        return split;
    }

    /** Per node, a split's threshold or a leaf's output. Not a copy: read only. */
    float[] value() {
        return value;
    }

    /** Per node, the training weight (sum of hessians) that reached it. Not a copy: read only. */
    float[] cover() {
        return cover;
    }

    /** Heap bytes of this object and its arrays (laid out as {@link CompactTrees#footprintBytes} counts). */
    public long footprintBytes() {
        return CompactTrees.align(12 + 4 + 5 * 4) + CompactTrees.align(16 + 4L * roots.length)
                + 4 * CompactTrees.align(16 + 4L * left.length);
    }

    /** This ensemble's trees followed by {@code more}'s. */
    public TreeEnsemble concat(TreeEnsemble more) {
        if (more.features != features) {
            throw new IllegalArgumentException("cannot append trees over " + more.features + " features to trees over "
                    + features);
        }
        int n = left.length;
        int[] roots = Arrays.copyOf(this.roots, this.roots.length + more.roots.length);
        for (int t = 0; t < more.roots.length; t++) {
            roots[this.roots.length + t] = more.roots[t] + n;
        }
        int[] left = Arrays.copyOf(this.left, n + more.left.length);
        for (int i = 0; i < more.left.length; i++) {
            left[n + i] = more.left[i] == LEAF ? LEAF : more.left[i] + n;
        }
        return new TreeEnsemble(features, roots, left, concat(split, more.split), concat(value, more.value),
                concat(cover, more.cover));
    }

    /** Trees {@code from} (inclusive) to {@code to} (exclusive), as an ensemble of their own. */
    public TreeEnsemble slice(int from, int to) {
        if (from < 0 || to > roots.length || from > to) {
            throw new IndexOutOfBoundsException("trees " + from + ".." + to + " of " + roots.length);
        }
        int start = from == roots.length ? left.length : roots[from];
        int end = to == roots.length ? left.length : roots[to];
        int[] roots = new int[to - from];
        for (int t = 0; t < roots.length; t++) {
            roots[t] = this.roots[from + t] - start;
        }
        int[] left = new int[end - start];
        for (int i = 0; i < left.length; i++) {
            left[i] = this.left[start + i] == LEAF ? LEAF : this.left[start + i] - start;
        }
        return new TreeEnsemble(features, roots, left, Arrays.copyOfRange(split, start, end),
                Arrays.copyOfRange(value, start, end), Arrays.copyOfRange(cover, start, end));
    }

    /** A copy of the arrays, for encoding. */
    public Layout layout() {
        return new Layout(roots.clone(), left.clone(), split.clone(), value.clone(), cover.clone());
    }

    /** The arrays of an ensemble in this class's layout (see the class comment). */
    public record Layout(int[] roots, int[] left, int[] split, float[] value, float[] cover) {
    }

    private void validate() {
        int n = left.length;
        if (features < 1 || features > (Integer.MAX_VALUE >>> 1)) {
            throw new IllegalArgumentException("feature count " + features + " out of range");
        }
        if (split.length != n || value.length != n || cover.length != n) {
            throw new IllegalArgumentException("node arrays differ in length");
        }
        if (roots.length == 0 ? n != 0 : roots[0] != 0) {
            throw new IllegalArgumentException("the first tree must start at node 0");
        }
        for (int t = 0; t < roots.length; t++) {
            int start = roots[t];
            int end = t + 1 < roots.length ? roots[t + 1] : n;
            if (end <= start || end > n) {
                throw new IllegalArgumentException("tree " + t + " has no nodes or overruns the arrays");
            }
            for (int node = start; node < end; node++) {
                if (Float.isNaN(value[node])) {
                    throw new IllegalArgumentException("tree " + t + " node " + (node - start) + " has no value");
                }
                int child = left[node];
                if (child == LEAF) {
                    continue;
                }
                if (child <= node || child + 1 >= end) {
                    throw new IllegalArgumentException("tree " + t + " node " + (node - start)
                            + " has children outside its tree or before it");
                }
                if ((split[node] >>> 1) >= features || split[node] < 0) {
                    throw new IllegalArgumentException("tree " + t + " node " + (node - start) + " tests feature "
                            + (split[node] >>> 1) + " of " + features);
                }
            }
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Same features and the same trees, node for node, bit for bit. */
    @Override
    public boolean equals(Object o) {
        return o instanceof TreeEnsemble e && features == e.features && Arrays.equals(roots, e.roots)
                && Arrays.equals(left, e.left) && Arrays.equals(split, e.split) && Arrays.equals(value, e.value)
                && Arrays.equals(cover, e.cover);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(value) + Arrays.hashCode(left);
    }

    @Override
    public String toString() {
        return "TreeEnsemble[" + roots.length + " trees, " + left.length + " nodes, " + features + " features]";
    }

    /**
     * Compiles trees given as XGBoost describes them (node 0 the root; per node its children or -1, the feature it
     * tests, its split condition or, for a leaf, its output, whether missing values go left, and its cover) into
     * this class's layout.
     */
    public static Builder builder(int features) {
        return new Builder(features);
    }

    public static final class Builder {

        private final int features;
        private int[] roots = new int[16];
        private int trees;
        private int[] left = new int[1024];
        private int[] split = new int[1024];
        private float[] value = new float[1024];
        private float[] cover = new float[1024];
        private int nodes;

        private Builder(int features) {
            this.features = features;
        }

        public Builder addTree(int[] leftChildren, int[] rightChildren, int[] splitFeature, float[] condition,
                boolean[] defaultLeft, float[] nodeCover) {
            int size = leftChildren.length;
            if (size == 0 || rightChildren.length != size || splitFeature.length != size || condition.length != size
                    || defaultLeft.length != size || nodeCover.length != size) {
                throw new IllegalArgumentException("tree " + trees + ": node arrays are empty or differ in length");
            }
            ensureRoom(size);
            if (trees == roots.length) {
                roots = Arrays.copyOf(roots, trees * 2);
            }
            int base = nodes;
            roots[trees++] = base;
            // Breadth-first: queue[i] is the source node placed at base + i; children are placed as a pair.
            int[] queue = new int[size];
            boolean[] placed = new boolean[size];
            queue[0] = 0;
            placed[0] = true;
            int tail = 1;
            for (int head = 0; head < tail; head++) {
                int source = queue[head];
                int at = base + head;
                int l = leftChildren[source];
                value[at] = condition[source];
                cover[at] = nodeCover[source];
                if (l == LEAF) {
                    left[at] = LEAF;
                    split[at] = 0;
                    continue;
                }
                int r = rightChildren[source];
                if (l < 0 || r < 0 || l >= size || r >= size || placed[l] || placed[r] || l == r || tail + 2 > size) {
                    throw new IllegalArgumentException("tree " + (trees - 1) + " is not a tree at node " + source);
                }
                if (splitFeature[source] < 0 || splitFeature[source] >= features) {
                    throw new IllegalArgumentException("tree " + (trees - 1) + " node " + source + " tests feature "
                            + splitFeature[source] + " of " + features);
                }
                left[at] = base + tail;
                split[at] = splitFeature[source] << 1 | (defaultLeft[source] ? 1 : 0);
                placed[l] = true;
                placed[r] = true;
                queue[tail++] = l;
                queue[tail++] = r;
            }
            // Nodes never reached from the root (XGBoost's deleted nodes) are dropped.
            nodes = base + tail;
            return this;
        }

        private void ensureRoom(int more) {
            if (nodes + more > left.length) {
                int capacity = Math.max(left.length * 2, nodes + more);
                left = Arrays.copyOf(left, capacity);
                split = Arrays.copyOf(split, capacity);
                value = Arrays.copyOf(value, capacity);
                cover = Arrays.copyOf(cover, capacity);
            }
        }

        public TreeEnsemble build() {
            return TreeEnsemble.of(features, Arrays.copyOf(roots, trees), Arrays.copyOf(left, nodes),
                    Arrays.copyOf(split, nodes), Arrays.copyOf(value, nodes), Arrays.copyOf(cover, nodes));
        }
    }
}

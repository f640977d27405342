package io.mlgateway.shared.trees;

import java.util.Arrays;

/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion and Lee, "Consistent Individualized Feature Attribution for Tree
 * Ensembles", 2018, Algorithm 2), computed as XGBoost's {@code predictContrib} computes it
 * ({@code src/predictor/treeshap.cc}: ExtendPath, UnwindPath, UnwoundPathSum), so the values agree with xgboost4j's
 * for the same trees and row:
 * <ul>
 *   <li>a feature the row lacks (NaN) follows its split's default direction, as in
 *       {@link TreeEnsemble#accumulate};</li>
 *   <li>a feature left out of a coalition is integrated over the tree's training data: each child is weighted by its
 *       cover (sum of hessians) over its parent's;</li>
 *   <li>a tree's expected value is the cover-weighted mean of its leaves, each node's mean divided by the node's own
 *       cover as XGBoost does; the bias is the sum of the trees' expected values and the intercept.</li>
 * </ul>
 * The per-tree contributions then add up, over a row's features and the bias, to the tree's output for the row.
 *
 * <p>Arithmetic is in double, where XGBoost's is in float: the two differ by float rounding, not more
 * (TreeShapTest measures it).
 *
 * <p>Cost per row: O(T·L·D²) for T trees of L leaves and depth D (at each leaf, an O(D) sum for each of up to D
 * features on its path). Memory: the contributions and a path buffer of O(D²) entries, allocated per instance.
 * One instance explains one row, on one thread: it is mutable working state, never shared.
 */
final class TreeShap {

    /**
     * Deepest tree explained. Recursion and the path buffer grow with depth (the buffer with its square); the trainer
     * grows trees of depth 16 at most, so a deeper one is a model that should not be explained on a request thread.
     */
    static final int MAX_DEPTH = 64;

    /** 1/n for every n a path of a tree within MAX_DEPTH divides by. */
    private static final double[] RECIPROCAL = new double[MAX_DEPTH + 2];

    static {
        for (int n = 1; n < RECIPROCAL.length; n++) {
            RECIPROCAL[n] = 1.0 / n;
        }
    }

    /** Enough path entries for trees of depth 8 without growing ({@code (D + 2)(D + 3) / 2}, rounded up). */
    private static final int INITIAL_PATH = 64;

    private final int features;
    /** Contributions in feature order, then the bias. */
    private final double[] phi;

    /*
     * The decision path from the root to the node being visited, as parallel arrays (XGBoost's PathElement): the
     * feature of each unique split on the path (-1 for the root's placeholder), the fraction of training weight
     * that took the path's branch ("zero": feature not in the coalition, integrated), whether the row took it
     * ("one": 1 or 0), and the permutation weight of coalitions of each size. Each level of the recursion works on
     * its own copy, a segment placed after its parent's, so a node's two children both start from its path.
     */
    private int[] pathFeature;
    private double[] pathZero;
    private double[] pathOne;
    private double[] pathWeight;

    /* The tree being walked and the row explained, set by addTrees for the recursion. */
    private int[] left;
    private int[] split;
    private float[] value;
    private float[] cover;
    private float[] rows;
    private int offset;

    TreeShap(int features) {
        this.features = features;
        this.phi = new double[features + 1];
        pathFeature = new int[INITIAL_PATH];
        pathZero = new double[INITIAL_PATH];
        pathOne = new double[INITIAL_PATH];
        pathWeight = new double[INITIAL_PATH];
    }

    /** Adds a constant to the bias: a standalone model's intercept. */
    void addBias(double bias) {
        phi[features] += bias;
    }

    /** Adds every tree's contributions for the row of {@code trees.features()} values at {@code offset}. */
    void addTrees(TreeEnsemble trees, float[] rows, int offset) {
        if (trees.features() != features) {
            throw new IllegalArgumentException("trees over " + trees.features() + " features, explaining "
                    + features);
        }
        left = trees.left();
        split = trees.split();
        value = trees.value();
        cover = trees.cover();
        this.rows = rows;
        this.offset = offset;
        for (int root : trees.roots()) {
            // The root's path holds only a placeholder (feature -1, weight 1), which no leaf credits.
            phi[features] += visit(root, 0, 0, 0, 1, 1, -1);
        }
    }

    /**
     * The contributions then the bias, in double: rounded to float (as {@code predictContrib} returns them), 13
     * values of a few hundred would add up to the prediction only within a few 1e-4.
     */
    double[] values() {
        return phi.clone();
    }

    /**
     * Visits {@code node}: extends the parent's path with the split that led here, credits the path's features at a
     * leaf, recurses into both children of a split.
     *
     * @param level        depth of {@code node} in its tree
     * @param parentStart  where the parent's path segment starts
     * @param depth        unique features on the path above {@code node}: the entry this node's extension takes
     * @param zeroFraction share of the parent's training weight that came here, times any earlier share of the same
     *                     feature
     * @param oneFraction  1 if the row came here (and any earlier split on the same feature agreed), else 0
     * @param feature      the feature the parent split on; -1 at the root
     * @return the expected value of the subtree: the cover-weighted mean of its leaves
     */
    private double visit(int node, int level, int parentStart, int depth, double zeroFraction, double oneFraction,
            int feature) {
        int start = parentStart + depth + 1;
        ensurePath(start + depth + 1);
        // A handful of entries: a plain loop beats four System.arraycopy calls.
        for (int i = 0; i < depth; i++) {
            pathFeature[start + i] = pathFeature[parentStart + i];
            pathZero[start + i] = pathZero[parentStart + i];
            pathOne[start + i] = pathOne[parentStart + i];
            pathWeight[start + i] = pathWeight[parentStart + i];
        }
        extend(start, depth, zeroFraction, oneFraction, feature);

        int child = left[node];
        if (child == TreeEnsemble.LEAF) {
            double leaf = value[node];
            for (int i = 1; i <= depth; i++) {
                int e = start + i;
                phi[pathFeature[e]] += unwoundSum(start, depth, i) * (pathOne[e] - pathZero[e]) * leaf;
            }
            return leaf;
        }
        if (level == MAX_DEPTH) {
            throw new IllegalStateException("a tree is deeper than " + MAX_DEPTH + ": not explained");
        }
        double weight = cover[node];
        if (!(weight > 0)) {
            // XGBoost would divide by it and answer NaN; its own trees always carry positive covers.
            throw new IllegalStateException("a split without cover (" + weight + "): the model cannot be explained");
        }
        int s = split[node];
        int f = s >>> 1;
        float x = rows[offset + f];
        boolean hotLeft = x != x ? (s & 1) != 0 : x < value[node];
        int right = child + 1;
        int hot = hotLeft ? child : right;
        int cold = hotLeft ? right : child;

        // A feature split on again is taken off the path and put back once, with both splits' fractions
        // multiplied: Shapley values count each feature once however often the path tests it.
        double incomingZero = 1;
        double incomingOne = 1;
        int unique = depth;
        for (int i = 1; i <= depth; i++) {
            if (pathFeature[start + i] == f) {
                incomingZero = pathZero[start + i];
                incomingOne = pathOne[start + i];
                unwind(start, depth, i);
                unique = depth - 1;
                break;
            }
        }
        double hotMean = visit(hot, level + 1, start, unique + 1, cover[hot] / weight * incomingZero, incomingOne, f);
        double coldMean = visit(cold, level + 1, start, unique + 1, cover[cold] / weight * incomingZero, 0, f);
        double leftMean = hotLeft ? hotMean : coldMean;
        double rightMean = hotLeft ? coldMean : hotMean;
        return (leftMean * cover[child] + rightMean * cover[right]) / weight;
    }

    /*
     * extend, unwind and unwoundSum are XGBoost's ExtendPath, UnwindPath and UnwoundPathSum over one segment of the
     * path, with its divisions by small integers turned into multiplications by RECIPROCAL (a leaf runs the inner
     * loop D² times, and a division costs several multiplications) and the branch on the one fraction, fixed per
     * call, taken out of the loops.
     */

    /** Appends a split to the path ending at {@code start + depth - 1}, updating the permutation weights. */
    private void extend(int start, int depth, double zeroFraction, double oneFraction, int feature) {
        double[] w = pathWeight;
        int e = start + depth;
        pathFeature[e] = feature;
        pathZero[e] = zeroFraction;
        pathOne[e] = oneFraction;
        w[e] = depth == 0 ? 1 : 0;
        double zero = zeroFraction * RECIPROCAL[depth + 1];
        double one = oneFraction * RECIPROCAL[depth + 1];
        for (int i = depth - 1; i >= 0; i--) {
            w[start + i + 1] += one * w[start + i] * (i + 1);
            w[start + i] = zero * w[start + i] * (depth - i);
        }
    }

    /** Removes entry {@code index} from the path ending at {@code start + depth}: the inverse of extend. */
    private void unwind(int start, int depth, int index) {
        double[] w = pathWeight;
        double one = pathOne[start + index];
        double zero = pathZero[start + index];
        if (one != 0) {
            double up = (depth + 1) / one;
            double down = zero * RECIPROCAL[depth + 1];
            double next = w[start + depth];
            for (int i = depth - 1; i >= 0; i--) {
                int e = start + i;
                double kept = w[e];
                w[e] = next * up * RECIPROCAL[i + 1];
                next = kept - w[e] * down * (depth - i);
            }
        } else {
            double up = (depth + 1) / zero;
            for (int i = depth - 1; i >= 0; i--) {
                w[start + i] *= up * RECIPROCAL[depth - i];
            }
        }
        for (int i = start + index; i < start + depth; i++) {
            pathFeature[i] = pathFeature[i + 1];
            pathZero[i] = pathZero[i + 1];
            pathOne[i] = pathOne[i + 1];
        }
    }

    /**
     * The total permutation weight the path would have without entry {@code index}: unwind's arithmetic without
     * writing, so a leaf can weigh each feature on its path in turn.
     */
    private double unwoundSum(int start, int depth, int index) {
        double[] w = pathWeight;
        double one = pathOne[start + index];
        double zero = pathZero[start + index];
        double total = 0;
        if (one != 0) {
            double up = (depth + 1) / one;
            double down = zero * RECIPROCAL[depth + 1];
            double next = w[start + depth];
            for (int i = depth - 1; i >= 0; i--) {
                double t = next * up * RECIPROCAL[i + 1];
                total += t;
                next = w[start + i] - t * down * (depth - i);
            }
        } else if (zero != 0) {
            double up = (depth + 1) / zero;
            for (int i = depth - 1; i >= 0; i--) {
                total += w[start + i] * up * RECIPROCAL[depth - i];
            }
        }
        // Both zero: a branch neither the row nor any training weight took; it weighs nothing.
        return total;
    }

    /** Grows the path buffer to hold {@code size} entries; a recursion level never keeps the arrays across calls. */
    private void ensurePath(int size) {
        if (size > pathWeight.length) {
            int capacity = Math.max(size, 2 * pathWeight.length);
            pathFeature = Arrays.copyOf(pathFeature, capacity);
            pathZero = Arrays.copyOf(pathZero, capacity);
            pathOne = Arrays.copyOf(pathOne, capacity);
            pathWeight = Arrays.copyOf(pathWeight, capacity);
        }
    }
}

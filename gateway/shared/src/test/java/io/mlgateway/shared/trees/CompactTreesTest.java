package io.mlgateway.shared.trees;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The compact form against the full form it is built from: every tree shape (complete, lopsided, deep chains, lone
 * leaves), every kind of value a row may hold at a split (below, equal to and above the threshold, NaN, ±infinity,
 * -0.0), the same float sum bit for bit. ScoringParityTest does the same against xgboost4j on real models.
 */
class CompactTreesTest {

    private static final int F = 5;

    @Test
    void randomTreesScoreBitForBitAsTheFullForm() {
        Random random = new Random(3);
        int complete = 0;
        int sparse = 0;
        for (int m = 0; m < 400; m++) {
            TreeEnsemble.Builder builder = TreeEnsemble.builder(F);
            int trees = 1 + random.nextInt(8);
            for (int t = 0; t < trees; t++) {
                // Depth up to 14 and any density: full trees, lopsided ones, chains deeper than a complete layout.
                addRandomTree(builder, random, random.nextInt(15), random.nextDouble());
            }
            TreeEnsemble full = builder.build();
            CompactTrees compact = CompactTrees.of(full);
            complete += compact.completeTrees();
            sparse += compact.trees() - compact.completeTrees();
            assertThat(compact.trees()).isEqualTo(full.trees());
            float[] rows = randomRows(random, 50, full);
            for (int r = 0; r < 50; r++) {
                float margin = random.nextFloat() * 100;
                float expected = full.accumulate(margin, rows, r * F);
                float actual = compact.accumulate(margin, rows, r * F);
                assertThat(Float.floatToRawIntBits(actual)).as("model %d row %s", m,
                        Arrays.toString(Arrays.copyOfRange(rows, r * F, r * F + F)))
                        .isEqualTo(Float.floatToRawIntBits(expected));
            }
        }
        // Both layouts were exercised, many times over.
        assertThat(complete).isGreaterThan(300);
        assertThat(sparse).isGreaterThan(300);
    }

    /** A full depth-6 tree, as the update policy grows them: 127 nodes in 571 bytes, complete. */
    @Test
    void aFullDepthSixTreeIsHeldCompleteIn571Bytes() {
        TreeEnsemble.Builder builder = TreeEnsemble.builder(F);
        addRandomTree(builder, new Random(1), 6, 1.0);
        TreeEnsemble full = builder.build();
        assertThat(full.nodes()).isEqualTo(127);
        CompactTrees compact = CompactTrees.of(full);
        assertThat(compact.completeTrees()).isOne();
        // Object 40; valueStart and splitStart 24 each; depth 24 (16 + 1); values 16 + 4·127 = 524 -> 528;
        // splits 16 + 63 = 79 -> 80.
        assertThat(compact.footprintBytes()).isEqualTo(40 + 24 + 24 + 24 + 528 + 80);
    }

    /** A chain of 40 splits (81 nodes) would take 2^41 slots complete: it takes the node layout, 7 bytes a node. */
    @Test
    void aDeepChainTakesTheNodeLayout() {
        int splits = 40;
        int n = 2 * splits + 1;
        int[] left = new int[n];
        int[] right = new int[n];
        int[] feature = new int[n];
        float[] condition = new float[n];
        Arrays.fill(left, TreeEnsemble.LEAF);
        Arrays.fill(right, TreeEnsemble.LEAF);
        for (int i = 0; i < splits; i++) {
            left[2 * i] = 2 * i + 1;
            right[2 * i] = 2 * i + 2;
            feature[2 * i] = i % F;
            condition[2 * i] = i / 40f;
        }
        for (int i = 0; i < n; i++) {
            if (left[i] == TreeEnsemble.LEAF) {
                condition[i] = i;
            }
        }
        TreeEnsemble full = TreeEnsemble.builder(F).addTree(left, right, feature, condition, new boolean[n],
                new float[n]).build();
        CompactTrees compact = CompactTrees.of(full);
        assertThat(compact.completeTrees()).isZero();
        // Values 16 + 4·81 = 340 -> 344; splits 16 + 3·81 = 259 -> 264.
        assertThat(compact.footprintBytes()).isEqualTo(40 + 24 + 24 + 24 + 344 + 264);
        float[] rows = randomRows(new Random(2), 200, full);
        for (int r = 0; r < 200; r++) {
            assertThat(compact.accumulate(0f, rows, r * F)).isEqualTo(full.accumulate(0f, rows, r * F));
        }
    }

    @Test
    void aLoneLeafAndNoTreesAtAll() {
        TreeEnsemble leaf = TreeEnsemble.builder(F).addTree(new int[] {-1}, new int[] {-1}, new int[] {0},
                new float[] {2.5f}, new boolean[1], new float[1]).build();
        assertThat(CompactTrees.of(leaf).accumulate(1f, new float[F], 0)).isEqualTo(3.5f);
        CompactTrees none = CompactTrees.of(TreeEnsemble.empty(F));
        assertThat(none.trees()).isZero();
        assertThat(none.accumulate(1f, new float[F], 0)).isEqualTo(1f);
    }

    @Test
    void refusesMoreFeaturesThanASplitByteNames() {
        TreeEnsemble wide = TreeEnsemble.empty(CompactTrees.MAX_FEATURES + 1);
        assertThatThrownBy(() -> CompactTrees.of(wide)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("features");
        assertThat(CompactTrees.of(TreeEnsemble.empty(CompactTrees.MAX_FEATURES)).features())
                .isEqualTo(CompactTrees.MAX_FEATURES);
    }

    /**
     * Adds a tree of depth {@code maxDepth} at most: each node below the root splits with probability
     * {@code density} (the root always, when the depth allows), on a random feature, threshold and default direction.
     */
    static void addRandomTree(TreeEnsemble.Builder builder, Random random, int maxDepth, double density) {
        int capacity = 1 << Math.min(maxDepth + 1, 16);
        int[] left = new int[capacity * 2];
        int[] right = new int[capacity * 2];
        int[] feature = new int[capacity * 2];
        float[] condition = new float[capacity * 2];
        boolean[] defaultLeft = new boolean[capacity * 2];
        int[] depth = new int[capacity * 2];
        int[] queue = new int[capacity * 2];
        int size = 1;
        int head = 0;
        int tail = 1;
        while (head < tail) {
            int node = queue[head++];
            boolean split = depth[node] < maxDepth && size + 2 <= capacity
                    && (node == 0 || random.nextDouble() < density);
            if (!split) {
                left[node] = TreeEnsemble.LEAF;
                right[node] = TreeEnsemble.LEAF;
                condition[node] = (random.nextInt(2000) - 1000) / 8f;
                continue;
            }
            // XGBoost's numbering puts children anywhere after the parent: right first, sometimes.
            boolean swap = random.nextBoolean();
            left[node] = swap ? size + 1 : size;
            right[node] = swap ? size : size + 1;
            feature[node] = random.nextInt(F);
            condition[node] = random.nextInt(10) / 10f;
            defaultLeft[node] = random.nextBoolean();
            depth[size] = depth[node] + 1;
            depth[size + 1] = depth[node] + 1;
            queue[tail++] = size;
            queue[tail++] = size + 1;
            size += 2;
        }
        builder.addTree(Arrays.copyOf(left, size), Arrays.copyOf(right, size), Arrays.copyOf(feature, size),
                Arrays.copyOf(condition, size), Arrays.copyOf(defaultLeft, size), new float[size]);
    }

    /** Rows whose values hit thresholds exactly, fall either side, or are NaN, ±infinity or -0.0. */
    static float[] randomRows(Random random, int count, TreeEnsemble trees) {
        float[] rows = new float[count * trees.features()];
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f, 0f};
        for (int i = 0; i < rows.length; i++) {
            int kind = random.nextInt(4);
            rows[i] = switch (kind) {
                case 0 -> special[random.nextInt(special.length)];
                case 1 -> random.nextInt(10) / 10f;
                default -> random.nextFloat() * 1.2f - 0.1f;
            };
        }
        return rows;
    }
}

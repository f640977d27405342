package io.mlgateway.shared.trees;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.modelstore.ModelFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TreeEnsembleTest {

    /**
     * x0 < 0.5 (missing: right) ? (x1 < 2 (missing: left) ? 10 : 20) : 30, given with XGBoost's node numbering in
     * an order the builder must re-lay: the root's children are nodes 3 and 1.
     */
    private static TreeEnsemble small() {
        return TreeEnsemble.builder(RentalFeatures.COUNT).addTree(
                        new int[] {3, -1, -1, 4, -1, -1}, new int[] {1, -1, -1, 5, -1, -1},
                        new int[] {0, 0, 0, 1, 0, 0}, new float[] {0.5f, 30f, 99f, 2f, 10f, 20f},
                        new boolean[] {false, false, false, true, false, false}, new float[] {6, 2, 0, 4, 3, 1})
                .build();
    }

    private static float score(TreeEnsemble e, float x0, float x1) {
        return e.accumulate(0f, row(x0, x1), 0);
    }

    private static float[] row(float x0, float x1) {
        float[] row = new float[RentalFeatures.COUNT];
        row[0] = x0;
        row[1] = x1;
        return row;
    }

    @Test
    void evaluatesSplitsAndMissingValuesAsXgboostDoes() {
        TreeEnsemble e = small();
        assertThat(score(e, 0.1f, 1f)).isEqualTo(10f);
        assertThat(score(e, 0.1f, 2f)).as("equal to the threshold goes right").isEqualTo(20f);
        assertThat(score(e, 0.5f, 0f)).isEqualTo(30f);
        assertThat(score(e, Float.NaN, 0f)).as("missing x0 goes right").isEqualTo(30f);
        assertThat(score(e, 0.1f, Float.NaN)).as("missing x1 goes left").isEqualTo(10f);
        float[] two = new float[2 * RentalFeatures.COUNT];
        System.arraycopy(row(0.1f, 1f), 0, two, RentalFeatures.COUNT, RentalFeatures.COUNT);
        assertThat(e.accumulate(5f, two, RentalFeatures.COUNT)).as("margin and offset").isEqualTo(15f);
        // The unreachable node 2 (XGBoost leaves deleted nodes in place) is dropped.
        assertThat(e.nodes()).isEqualTo(5);
    }

    @Test
    void concatAndSliceKeepEachTreesAnswers() {
        TreeEnsemble one = small();
        TreeEnsemble three = one.concat(one).concat(one);
        assertThat(three.trees()).isEqualTo(3);
        assertThat(score(three, 0.1f, 1f)).isEqualTo(30f);
        assertThat(three.slice(1, 3)).isEqualTo(one.concat(one));
        assertThat(three.slice(2, 3)).isEqualTo(one);
        assertThat(three.slice(3, 3).trees()).isZero();
        assertThat(TreeEnsemble.empty(RentalFeatures.COUNT).concat(one)).isEqualTo(one);
    }

    @Test
    void footprintCountsTheObjectAndItsFiveArraysAsTheJvmLaysThemOut() {
        TreeEnsemble one = small();
        TreeEnsemble ten = one;
        for (int i = 0; i < 9; i++) {
            ten = ten.concat(one);
        }
        // 40 (object) + 24 (roots: 16 + 4) + 4 × 40 (5 nodes: 16 + 20, aligned to 8).
        assertThat(one.footprintBytes()).isEqualTo(40 + 24 + 4 * 40);
        // 10 roots: 16 + 40 = 56; 50 nodes: 16 + 200 = 216 each.
        assertThat(ten.footprintBytes()).isEqualTo(40 + 56 + 4 * 216);
    }

    @Test
    void refusesWhatIsNotATree() {
        // A node whose child is itself: evaluation would never end.
        assertThatThrownBy(() -> TreeEnsemble.builder(1).addTree(new int[] {0}, new int[] {0}, new int[] {0},
                new float[] {1}, new boolean[] {false}, new float[] {1})).isInstanceOf(IllegalArgumentException.class);
        // A split on a feature the rows do not have.
        assertThatThrownBy(() -> TreeEnsemble.builder(1).addTree(new int[] {1, -1, -1}, new int[] {2, -1, -1},
                new int[] {3, 0, 0}, new float[] {1, 1, 2}, new boolean[3], new float[3]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("feature 3");
        // Arrays in this class's layout whose child points back up.
        assertThatThrownBy(() -> TreeEnsemble.of(1, new int[] {0}, new int[] {1, 0, -1}, new int[3], new float[3],
                new float[3])).isInstanceOf(IllegalArgumentException.class);
        // A child pair running past the end of its tree.
        assertThatThrownBy(() -> TreeEnsemble.of(1, new int[] {0, 2}, new int[] {1, -1, -1}, new int[3], new float[3],
                new float[3])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theStoredFormatRoundTripsAndRefusesCorruptBytesCleanly() {
        TreeModel layered = TreeModel.layered(7L, small().concat(small()));
        byte[] bytes = ModelFormat.encode(layered);
        assertThat(ModelFormat.decode(ModelFormat.TREES, bytes)).isEqualTo(layered);
        TreeModel standalone = TreeModel.standalone(143.8f, small());
        assertThat(ModelFormat.decode(ModelFormat.TREES, ModelFormat.encode(standalone))).isEqualTo(standalone);

        // Any flipped byte or truncation either decodes to a valid ensemble or is refused as a bad argument;
        // a decoded one always scores in bounded time.
        Random random = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            byte[] corrupt = bytes.clone();
            if (i % 10 == 0) {
                corrupt = java.util.Arrays.copyOf(corrupt, random.nextInt(corrupt.length));
            } else {
                corrupt[random.nextInt(corrupt.length)] = (byte) random.nextInt(256);
            }
            try {
                TreeModel decoded = ModelFormat.decode(ModelFormat.TREES, corrupt);
                ScoringModel scoring = decoded.isLayered()
                        ? decoded.bind(TreeModel.standalone(0f, TreeEnsemble.empty(RentalFeatures.COUNT)).bind(null))
                        : decoded.bind(null);
                scoring.predict(row(random.nextFloat(), Float.NaN), 0);
            } catch (IllegalArgumentException expected) {
                // refused
            }
        }
        assertThatThrownBy(() -> ModelFormat.decode("pickle", bytes)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown model format");
    }

    /** 9 bytes a node: a split byte, a value and a cover; the tree structure is implied by the node order. */
    @Test
    void theStoredFormatTakesNineBytesANode() {
        TreeModel model = TreeModel.layered(7L, small().concat(small()));
        assertThat(ModelFormat.encode(model)).hasSize(4 + 1 + 8 + 4 + 12 + 9 * 10);
    }

    /** Rows stored before trees-v2 (the engine's arrays as they were, 16 bytes a node) still load, as they were. */
    @Test
    void rowsStoredAsTreesV1StillLoad() {
        TreeModel layered = TreeModel.layered(7L, small().concat(small()));
        assertThat(ModelFormat.decode(ModelFormat.TREES_V1, treesV1(layered))).isEqualTo(layered);
        TreeModel standalone = TreeModel.standalone(143.8f, small());
        assertThat(ModelFormat.decode(ModelFormat.TREES_V1, treesV1(standalone))).isEqualTo(standalone);
        assertThatThrownBy(() -> ModelFormat.decode(ModelFormat.TREES_V1, ModelFormat.encode(standalone)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bad magic");
    }

    /** What trees-v1 rows hold: the encoder of the versions that wrote them. */
    static byte[] treesV1(TreeModel model) {
        TreeEnsemble.Layout trees = model.trees().layout();
        int nodes = trees.left().length;
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(21 + (model.isLayered() ? 8 : 0)
                + 4 * trees.roots().length + 16 * nodes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        out.putInt(0x4D475431).put((byte) (model.isLayered() ? 1 : 0));
        if (model.isLayered()) {
            out.putLong(model.baseVersion());
        }
        out.putFloat(model.intercept()).putInt(model.trees().features()).putInt(trees.roots().length).putInt(nodes);
        for (int root : trees.roots()) {
            out.putInt(root);
        }
        for (int i = 0; i < nodes; i++) {
            out.putInt(trees.left()[i]);
        }
        for (int i = 0; i < nodes; i++) {
            out.putInt(trees.split()[i]);
        }
        for (int i = 0; i < nodes; i++) {
            out.putFloat(trees.value()[i]);
        }
        for (int i = 0; i < nodes; i++) {
            out.putFloat(trees.cover()[i]);
        }
        return out.array();
    }

    @Test
    void aLayeredModelNeedsItsBaseAndAddsToItsPrediction() {
        ScoringModel base = TreeModel.standalone(100f, small()).bind(null);
        TreeModel user = TreeModel.layered(1L, small());
        ScoringModel scoring = user.bind(base);
        assertThat(scoring.predict(row(0.1f, 1f), 0)).isEqualTo(120f);
        assertThat(scoring.trees()).isEqualTo(2);
        assertThat(scoring.ownFootprintBytes()).isEqualTo(24 + CompactTrees.of(small()).footprintBytes());
        assertThatThrownBy(() -> user.bind(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TreeModel.standalone(1f, small()).bind(base)).isInstanceOf(IllegalArgumentException.class);
    }
}

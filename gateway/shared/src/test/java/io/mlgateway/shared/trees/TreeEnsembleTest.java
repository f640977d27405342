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
    void footprintCountsSixteenBytesANodePlusRootsAndHeaders() {
        TreeEnsemble one = small();
        TreeEnsemble ten = one;
        for (int i = 0; i < 9; i++) {
            ten = ten.concat(one);
        }
        assertThat(one.footprintBytes()).isEqualTo(128 + 16 * 5 + 4);
        assertThat(ten.footprintBytes() - one.footprintBytes()).isEqualTo(9 * (16 * 5 + 4));
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

    @Test
    void aLayeredModelNeedsItsBaseAndAddsToItsPrediction() {
        ScoringModel base = TreeModel.standalone(100f, small()).bind(null);
        TreeModel user = TreeModel.layered(1L, small());
        ScoringModel scoring = user.bind(base);
        assertThat(scoring.predict(row(0.1f, 1f), 0)).isEqualTo(120f);
        assertThat(scoring.trees()).isEqualTo(2);
        assertThat(scoring.ownFootprintBytes()).isLessThan(base.ownFootprintBytes() + small().footprintBytes());
        assertThatThrownBy(() -> user.bind(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TreeModel.standalone(1f, small()).bind(base)).isInstanceOf(IllegalArgumentException.class);
    }
}

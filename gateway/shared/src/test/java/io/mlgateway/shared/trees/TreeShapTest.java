package io.mlgateway.shared.trees;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.shared.training.BoosterTrainer;
import io.mlgateway.shared.training.TrainingSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link TreeModel#contributions} against xgboost4j's {@code predictContrib} on the same trees, against SHAP
 * values derived by hand, and against Shapley values computed by brute force over every coalition.
 *
 * <p>Bounds. Each value within max({@value #XGBOOST_BOUND}, {@value #XGBOOST_RELATIVE_BOUND} × |value|) of
 * xgboost4j's: XGBoost computes in float and sums 200 trees' shares in float, so values of a few hundred differ by
 * float rounding of some 1e-4 (measured: 1.5e-4 at most, a quarter of the bound at worst). The contributions plus the
 * bias within {@value #ADDITIVITY_BOUND} × max(1, |prediction|) of {@link ScoringModel#predict}, a float sum running
 * through the intercept's hundreds whatever the result (measured: 3.2e-4 at most), and within
 * {@value #EXACT_ADDITIVITY_BOUND} of the trees' outputs summed in double (measured: 1.1e-5, the rounding of the
 * values to float).
 */
class TreeShapTest {

    private static final int F = RentalFeatures.COUNT;
    private static final double XGBOOST_BOUND = 1e-4;
    private static final double XGBOOST_RELATIVE_BOUND = 1e-5;
    private static final double ADDITIVITY_BOUND = 1e-4;
    private static final double EXACT_ADDITIVITY_BOUND = 1e-9;

    private static List<BikeSharingData.Hour> hours;
    private static Booster base;
    private static Model baseScoring;
    private static float baseIntercept;
    /** Every 40th hour of the two years: 435 rows across seasons, hours and weather. */
    private static float[] sample;
    private static int sampleRows;
    /** The same rows, each missing one to three values. */
    private static float[] sampleWithMissing;

    @BeforeAll
    static void train() {
        hours = BikeSharingData.load();
        List<BikeSharingData.Hour> every40th = new ArrayList<>();
        for (int i = 0; i < hours.size(); i += 40) {
            every40th.add(hours.get(i));
        }
        sample = TrainingSet.of(every40th).features();
        sampleRows = every40th.size();
        sampleWithMissing = sample.clone();
        Random random = new Random(42);
        for (int row = 0; row < sampleRows; row++) {
            for (int k = random.nextInt(3); k >= 0; k--) {
                sampleWithMissing[row * F + random.nextInt(F)] = Float.NaN;
            }
        }
        base = BoosterTrainer.trainBooster(TrainingSet.of(BikeSharingData.where(BikeSharingData.Hour::isYear2011)),
                BoosterTrainer.BASE_ROUNDS);
        TreeModel baseModel = XGBoostTrees.standalone(base);
        baseIntercept = baseModel.intercept();
        baseScoring = new Model(baseModel, null);
    }

    @AfterAll
    static void free() {
        base.dispose();
    }

    @Test
    void theBaseModelMatchesXgboost() throws XGBoostError {
        assertThat(sampleRows).isGreaterThanOrEqualTo(200);
        assertThat(baseScoring.trees()).isEqualTo(200);
        assertMatchesXgboost("base model", baseScoring, base, sample);
    }

    @Test
    void missingValuesFollowTheDefaultDirectionAsInXgboost() throws XGBoostError {
        assertMatchesXgboost("base model, missing values", baseScoring, base, sampleWithMissing);
        // Row 0 lost values: its explanation changes, so the rows really took the missing-value branches.
        assertThat(baseScoring.contributions(sampleWithMissing, 0)).isNotEqualTo(baseScoring.contributions(sample, 0));
    }

    /**
     * A user's model layered on the base explains its full prediction: the same values xgboost4j gives for the booster
     * that holds the base's 200 trees and the user's 10 in one model (XGBoost's own continuation of the base).
     */
    @Test
    void aLayeredModelIsExplainedAsTheFullBooster() throws XGBoostError {
        Booster continued = BoosterTrainer.continueBooster(base, TrainingSet.of(hours.subList(9000, 9050)), 10);
        try {
            TreeEnsemble all = XGBoostTrees.trees(continued);
            assertThat(all.slice(0, 200)).isEqualTo(baseScoring.model().trees());
            Model layered = new Model(TreeModel.layered(1L, all.slice(200, 210)), baseScoring.model());
            assertMatchesXgboost("layered model", layered, continued, sample);
            assertMatchesXgboost("layered model, missing values", layered, continued, sampleWithMissing);
            assertThat(layered.contributions(sample, 0)).as("the user's own trees count")
                    .isNotEqualTo(baseScoring.contributions(sample, 0));
        } finally {
            continued.dispose();
        }
    }

    /** Explanations share no state: threads explaining rows at once get what one thread gets, value for value. */
    @Test
    void threadsExplainingAtOnceGetTheSameValues() throws Exception {
        double[][] alone = new double[sampleRows][];
        for (int r = 0; r < sampleRows; r++) {
            alone[r] = baseScoring.contributions(sampleWithMissing, r * F);
        }
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<double[][]>> runs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                runs.add(threads.submit(() -> {
                    double[][] out = new double[sampleRows][];
                    for (int r = 0; r < sampleRows; r++) {
                        out[r] = baseScoring.contributions(sampleWithMissing, r * F);
                    }
                    return out;
                }));
            }
            for (Future<double[][]> run : runs) {
                assertThat(run.get()).isDeepEqualTo(alone);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    /** x2 < 0.5 (missing: right) ? 10 (cover 3) : 20 (cover 1): expected value 12.5, only x2 can move it. */
    @Test
    void aStumpCreditsItsFeatureWithTheLeafMinusTheExpectedValue() {
        TreeEnsemble stump = TreeEnsemble.of(3, new int[] {0}, new int[] {1, -1, -1}, new int[] {2 << 1, 0, 0},
                new float[] {0.5f, 10f, 20f}, new float[] {4f, 3f, 1f});
        Model model = Model.standalone(100f, stump);
        assertThat(model.contributions(new float[] {7f, 7f, 0f}, 0)).containsExactly(0.0, 0.0, -2.5, 112.5);
        assertThat(model.contributions(new float[] {7f, 7f, 1f}, 0)).containsExactly(0.0, 0.0, 7.5, 112.5);
        assertThat(model.contributions(new float[] {7f, 7f, 0.5f}, 0)).as("at the threshold: right")
                .containsExactly(0.0, 0.0, 7.5, 112.5);
        assertThat(model.contributions(new float[] {7f, 7f, Float.NaN}, 0)).as("missing: right")
                .containsExactly(0.0, 0.0, 7.5, 112.5);
        float[] two = {0f, 0f, 1f, 7f, 7f, 0f};
        assertThat(model.contributions(two, 3)).as("offset").containsExactly(0.0, 0.0, -2.5, 112.5);
    }

    /**
     * x0 < 0.5 (missing: left) ? (x1 < 2 ? 10 (cover 3) : 20 (cover 1)) : 30 (cover 2). Expected value 110/6. With v(S)
     * the expected output when the features in S are known, Shapley's formula over the two features gives:
     * <ul>
     *   <li>x = (0.1, 1): v(0) = 12.5, v(1) = (4·10 + 2·30)/6, v(0,1) = 10, so φ0 = -6.25 and φ1 = -25/12;</li>
     *   <li>x = (0.7, 1): v(0) = 30, v(1) as before, v(0,1) = 30, so φ0 = 12.5 and φ1 = -5/6: x1 gets a share
     *       though the row's path never tests it, because it would have mattered had x0 been unknown.</li>
     * </ul>
     */
    @Test
    void aDepthTwoTreeOverTwoFeaturesGivesShapleysValues() {
        TreeEnsemble tree = TreeEnsemble.of(3, new int[] {0}, new int[] {1, 3, -1, -1, -1},
                new int[] {0 << 1 | 1, 1 << 1, 0, 0, 0}, new float[] {0.5f, 2f, 30f, 10f, 20f},
                new float[] {6f, 4f, 2f, 3f, 1f});
        Model model = Model.standalone(0f, tree);
        double bias = 110.0 / 6;
        assertThat(model.contributions(new float[] {0.1f, 1f, 5f}, 0))
                .containsExactly(new double[] {-6.25, -25.0 / 12, 0.0, bias}, within(1e-6));
        assertThat(model.contributions(new float[] {0.7f, 1f, 5f}, 0))
                .containsExactly(new double[] {12.5, -5.0 / 6, 0.0, bias}, within(1e-6));
        assertThat(model.contributions(new float[] {Float.NaN, 1f, 5f}, 0)).as("missing x0 goes left")
                .containsExactly(new double[] {-6.25, -25.0 / 12, 0.0, bias}, within(1e-6));
    }

    /**
     * Split on x0 twice on one path: x0 takes the whole difference to the expected value, nothing goes to x1. (Paths
     * that test a feature again after another feature, where a slip in the path's bookkeeping would show, are among
     * the random trees below.)
     */
    @Test
    void aFeatureTestedTwiceOnAPathIsCreditedOnce() {
        // x0 < 0.5 ? (x0 < 0.2 ? 1 (cover 1) : 2 (cover 1)) : 3 (cover 2); expected value 2.25.
        TreeEnsemble tree = TreeEnsemble.of(2, new int[] {0}, new int[] {1, 3, -1, -1, -1},
                new int[] {0, 0, 0, 0, 0}, new float[] {0.5f, 0.2f, 3f, 1f, 2f}, new float[] {4f, 2f, 2f, 1f, 1f});
        Model model = Model.standalone(0f, tree);
        assertThat(model.contributions(new float[] {0.3f, 9f}, 0)).containsExactly(-0.25, 0.0, 2.25);
        assertThat(model.contributions(new float[] {0.1f, 9f}, 0)).containsExactly(-1.25, 0.0, 2.25);
    }

    /**
     * Random trees over three features, deep enough to test features again and again, with covers that add up, rows
     * with missing values: each value against Shapley's formula evaluated over all coalitions, where the value of a
     * coalition is the tree's expected output with the other features integrated by cover (TreeSHAP's Algorithm 1).
     */
    @Test
    void randomTreesAgreeWithShapleysFormulaOverEveryCoalition() {
        Random random = new Random(11);
        for (int t = 0; t < 300; t++) {
            RandomTree tree = RandomTree.grow(random, 3, 2 + random.nextInt(5));
            Model model = Model.standalone(0f, tree.ensemble());
            for (int r = 0; r < 5; r++) {
                float[] row = new float[3];
                for (int f = 0; f < 3; f++) {
                    row[f] = random.nextInt(6) == 0 ? Float.NaN : random.nextInt(10) / 10f;
                }
                double[] ours = model.contributions(row, 0);
                double[] expected = tree.shapley(row);
                for (int f = 0; f <= 3; f++) {
                    assertThat((double) ours[f]).as("tree %d %s feature %d", t, Arrays.toString(row), f)
                            .isCloseTo(expected[f], within(1e-5));
                }
                assertThat(ours[0] + ours[1] + ours[2] + ours[3]).isCloseTo((double) model.predict(row, 0), within(1e-4));
            }
        }
    }

    @Test
    void refusesTreesItCannotExplain() {
        TreeEnsemble noCover = TreeEnsemble.of(1, new int[] {0}, new int[] {1, -1, -1}, new int[3],
                new float[] {0.5f, 1f, 2f}, new float[3]);
        assertThatThrownBy(() -> Model.standalone(0f, noCover).contributions(new float[] {0f}, 0))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("cover");

        // A chain of 70 splits on x0, each with its left child a leaf.
        int n = 2 * 70 + 1;
        int[] left = new int[n];
        float[] value = new float[n];
        float[] cover = new float[n];
        Arrays.fill(left, TreeEnsemble.LEAF);
        for (int i = 0; i < 70; i++) {
            left[2 * i] = 2 * i + 1;
            value[2 * i] = -i;
        }
        for (int i = n - 1; i >= 0; i--) {
            cover[i] = left[i] == TreeEnsemble.LEAF ? 1f : cover[left[i]] + cover[left[i] + 1];
        }
        Model deep = Model.standalone(0f, TreeEnsemble.of(1, new int[] {0}, left, new int[n], value,
                cover));
        assertThatThrownBy(() -> deep.contributions(new float[] {1f}, 0)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("deeper than " + TreeShap.MAX_DEPTH);
    }

    /**
     * Asserts every value of every row against xgboost4j's, and that the values add up to the prediction, both as
     * {@link ScoringModel#predict} computes it (in float) and summed exactly (in double, tree by tree); prints the
     * largest differences seen.
     */
    private static void assertMatchesXgboost(String what, Model model, Booster booster, float[] rows)
            throws XGBoostError {
        float[][] reference = predictContrib(booster, rows, sampleRows);
        List<TreeEnsemble> singleTrees = singleTrees(model);
        double worst = 0;
        double worstOfBound = 0;
        double worstPredict = 0;
        double worstExact = 0;
        double worstXgboostPredict = 0;
        float[] xgboostPredictions = ScoringParityTest.reference(booster, rows, sampleRows, null);
        for (int r = 0; r < sampleRows; r++) {
            double[] ours = model.contributions(rows, r * F);
            assertThat(ours).hasSize(F + 1);
            assertThat(reference[r]).hasSize(F + 1);
            double sum = 0;
            for (int j = 0; j <= F; j++) {
                double error = Math.abs((double) ours[j] - reference[r][j]);
                double bound = Math.max(XGBOOST_BOUND, XGBOOST_RELATIVE_BOUND * Math.abs(reference[r][j]));
                assertThat(error).as("%s, row %d, %s: ours %s, xgboost %s", what, r,
                        j == F ? "bias" : RentalFeatures.NAMES.get(j), ours[j], reference[r][j])
                        .isLessThanOrEqualTo(bound);
                worst = Math.max(worst, error);
                worstOfBound = Math.max(worstOfBound, error / bound);
                sum += ours[j];
            }
            float predicted = model.predict(rows, r * F);
            double gap = Math.abs(sum - predicted);
            assertThat(gap).as("%s, row %d: contributions add up to %s, prediction %s", what, r, sum, predicted)
                    .isLessThanOrEqualTo(ADDITIVITY_BOUND * Math.max(1, Math.abs(predicted)));
            worstPredict = Math.max(worstPredict, gap);
            double exact = baseIntercept;
            for (TreeEnsemble tree : singleTrees) {
                exact += tree.accumulate(0f, rows, r * F);
            }
            double exactGap = Math.abs(sum - exact);
            assertThat(exactGap).as("%s, row %d: contributions add up to %s, trees to %s", what, r, sum, exact)
                    .isLessThanOrEqualTo(EXACT_ADDITIVITY_BOUND);
            worstExact = Math.max(worstExact, exactGap);
            double xgboostSum = 0;
            for (float value : reference[r]) {
                xgboostSum += value;
            }
            worstXgboostPredict = Math.max(worstXgboostPredict, Math.abs(xgboostSum - xgboostPredictions[r]));
        }
        System.out.printf("%s, %d rows, %d trees: largest difference to predictContrib %.3g (%.0f%% of its bound); "
                + "largest |sum - predict| %.3g, |sum - exact sum of the trees| %.3g; xgboost4j's own "
                + "|sum of predictContrib - predict| %.3g%n", what, sampleRows, model.trees(), worst, 100 * worstOfBound,
                worstPredict, worstExact, worstXgboostPredict);
    }

    /** Each tree of the model, the base's included, as an ensemble of its own: its output for a row is one leaf. */
    private static List<TreeEnsemble> singleTrees(Model model) {
        List<TreeEnsemble> trees = new ArrayList<>();
        for (TreeModel m : model.base() == null ? List.of(model.model()) : List.of(model.model(), model.base())) {
            for (int t = 0; t < m.trees().trees(); t++) {
                trees.add(m.trees().slice(t, t + 1));
            }
        }
        return trees;
    }

    /** A stored model and its base (null for a standalone one): explained from their trees, scored compact. */
    private record Model(TreeModel model, TreeModel base) {

        static Model standalone(float intercept, TreeEnsemble trees) {
            return new Model(TreeModel.standalone(intercept, trees), null);
        }

        double[] contributions(float[] rows, int offset) {
            return model.contributions(base, rows, offset);
        }

        float predict(float[] rows, int offset) {
            return model.bind(base == null ? null : base.bind(null)).predict(rows, offset);
        }

        int trees() {
            return model.trees().trees() + (base == null ? 0 : base.trees().trees());
        }
    }

    private static float[][] predictContrib(Booster booster, float[] rows, int count) throws XGBoostError {
        DMatrix matrix = new DMatrix(rows, count, F, Float.NaN);
        try {
            return booster.predictContrib(matrix, 0);
        } finally {
            matrix.dispose();
        }
    }

    /**
     * A tree in XGBoost's numbering (node 0 the root, children anywhere after it) with a brute-force Shapley oracle
     * of its own, independent of {@link TreeShap} and of {@link TreeEnsemble}'s layout.
     */
    private record RandomTree(int features, int[] left, int[] right, int[] feature, float[] condition,
            boolean[] defaultLeft, float[] cover) {

        static RandomTree grow(Random random, int features, int maxDepth) {
            int capacity = (1 << (maxDepth + 1)) - 1;
            RandomTree tree = new RandomTree(features, new int[capacity], new int[capacity], new int[capacity],
                    new float[capacity], new boolean[capacity], new float[capacity]);
            int[] size = {1};
            tree.grow(random, 0, 0, maxDepth, size);
            return new RandomTree(features, Arrays.copyOf(tree.left, size[0]), Arrays.copyOf(tree.right, size[0]),
                    Arrays.copyOf(tree.feature, size[0]), Arrays.copyOf(tree.condition, size[0]),
                    Arrays.copyOf(tree.defaultLeft, size[0]), Arrays.copyOf(tree.cover, size[0]));
        }

        /** Grows {@code node}; covers are small integers, so a split's is its children's sum exactly. */
        private void grow(Random random, int node, int depth, int maxDepth, int[] size) {
            if (depth == maxDepth || (depth > 0 && random.nextInt(4) == 0)) {
                left[node] = TreeEnsemble.LEAF;
                right[node] = TreeEnsemble.LEAF;
                condition[node] = random.nextInt(41) - 20 + random.nextInt(4) / 4f;
                cover[node] = 1 + random.nextInt(20);
                return;
            }
            int l = size[0]++;
            int r = size[0]++;
            left[node] = l;
            right[node] = r;
            feature[node] = random.nextInt(features);
            condition[node] = (1 + random.nextInt(9)) / 10f;
            defaultLeft[node] = random.nextBoolean();
            grow(random, l, depth + 1, maxDepth, size);
            grow(random, r, depth + 1, maxDepth, size);
            cover[node] = cover[l] + cover[r];
        }

        TreeEnsemble ensemble() {
            return TreeEnsemble.builder(features).addTree(left, right, feature, condition, defaultLeft, cover).build();
        }

        /** φ per feature, then the expected value: Shapley's sum over the coalitions without each feature. */
        double[] shapley(float[] row) {
            double[] phi = new double[features + 1];
            double[] factorial = new double[features + 1];
            factorial[0] = 1;
            for (int i = 1; i <= features; i++) {
                factorial[i] = factorial[i - 1] * i;
            }
            for (int i = 0; i < features; i++) {
                for (int known = 0; known < 1 << features; known++) {
                    if ((known & 1 << i) != 0) {
                        continue;
                    }
                    int s = Integer.bitCount(known);
                    double weight = factorial[s] * factorial[features - s - 1] / factorial[features];
                    phi[i] += weight * (expected(0, row, known | 1 << i) - expected(0, row, known));
                }
            }
            phi[features] = expected(0, row, 0);
            return phi;
        }

        /** The subtree's output expected when only the features in {@code known} are the row's. */
        private double expected(int node, float[] row, int known) {
            if (left[node] == TreeEnsemble.LEAF) {
                return condition[node];
            }
            int f = feature[node];
            if ((known & 1 << f) != 0) {
                float x = row[f];
                boolean goLeft = Float.isNaN(x) ? defaultLeft[node] : x < condition[node];
                return expected(goLeft ? left[node] : right[node], row, known);
            }
            return (expected(left[node], row, known) * cover[left[node]]
                    + expected(right[node], row, known) * cover[right[node]]) / cover[node];
        }
    }
}

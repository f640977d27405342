package io.mlgateway.regno;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PlateSymbolsTest {

    private static double score(double[] scores, String symbol) {
        return scores[PlateSymbols.ALPHABET.indexOf(symbol)];
    }

    @Test
    void alphabetIsDigitsLatinDAndTwelveCyrillicLetters() {
        assertThat(PlateSymbols.ALPHABET).hasSize(23)
                .containsSubsequence("0", "9", "D", "А", "В", "Е", "К", "М", "Н", "О", "Р", "С", "Т", "У", "Х");
    }

    @Test
    void duplicateSymbolTakesItsLowestScore() {
        double[] s = PlateSymbols.minScores("А939НО190", new double[] {0.9, 0.8, 0.5, 0.7, 0.95, 0.6, 0.99, 0.3, 0.4});
        assertThat(score(s, "9")).isEqualTo(0.3);  // 9 at positions 1, 3, 7
        assertThat(score(s, "3")).isEqualTo(0.5);
        assertThat(score(s, "А")).isEqualTo(0.9);
        assertThat(score(s, "0")).isEqualTo(0.4);
    }

    @Test
    void absentSymbolScoresOne() {
        double[] s = PlateSymbols.minScores("А939НО190", new double[] {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1});
        assertThat(score(s, "5")).isEqualTo(1.0);
        assertThat(score(s, "D")).isEqualTo(1.0);
        assertThat(score(s, "Х")).isEqualTo(1.0);
    }

    @Test
    void pairsUpToTheShorterOfPlateAndScores() {
        double[] fewerScores = PlateSymbols.minScores("А12", new double[] {0.5});
        assertThat(score(fewerScores, "А")).isEqualTo(0.5);
        assertThat(score(fewerScores, "1")).isEqualTo(1.0);
        assertThat(score(fewerScores, "2")).isEqualTo(1.0);

        double[] moreScores = PlateSymbols.minScores("А1", new double[] {0.5, 0.6, 0.01, 0.02});
        assertThat(score(moreScores, "1")).isEqualTo(0.6);
    }

    @Test
    void emptyScoresOrPlateLeaveEverySymbolAtOne() {
        assertThat(PlateSymbols.minScores("А939НО190", new double[0])).containsOnly(1.0);
        assertThat(PlateSymbols.minScores("", new double[] {0.2})).containsOnly(1.0);
    }

    @Test
    void latinLookAlikesDoNotCountForCyrillicSymbols() {
        // Latin A, B, O, H, T, D; only the Latin D is in the alphabet.
        double[] s = PlateSymbols.minScores("ABOHTD", new double[] {0.1, 0.2, 0.3, 0.4, 0.5, 0.6});
        assertThat(score(s, "А")).isEqualTo(1.0);
        assertThat(score(s, "В")).isEqualTo(1.0);
        assertThat(score(s, "О")).isEqualTo(1.0);
        assertThat(score(s, "Н")).isEqualTo(1.0);
        assertThat(score(s, "Т")).isEqualTo(1.0);
        assertThat(score(s, "D")).isEqualTo(0.6);
    }

    @Test
    void aSingleScoreAboveOneIsKeptNotCapped() {
        assertThat(score(PlateSymbols.minScores("7", new double[] {1.5}), "7")).isEqualTo(1.5);
    }
}

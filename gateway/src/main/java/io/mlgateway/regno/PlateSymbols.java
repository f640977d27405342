package io.mlgateway.regno;

import java.util.Arrays;
import java.util.List;

/**
 * Per-symbol confidence of the neural net's plate: for each symbol of the plate alphabet, the lowest char score
 * among its occurrences, or 1.0 when it does not occur. The alphabet is the digits, Latin D (diplomatic plates)
 * and the twelve Cyrillic letters used on Russian plates; Latin look-alikes (A, B, E, K, M, H, O, P, C, T, Y, X)
 * are different symbols and count for nothing here.
 */
public final class PlateSymbols {

    /** Each symbol is also the name of its model feature. */
    public static final List<String> ALPHABET = List.of(
            "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "D",
            "А", "В", "Е", "К", "М", "Н", "О", "Р", "С", "Т", "У", "Х");

    private PlateSymbols() {
    }

    /**
     * Scores in {@link #ALPHABET} order. Characters and scores are paired by position up to the shorter of the two.
     */
    public static double[] minScores(String plate, double[] charScores) {
        double[] result = new double[ALPHABET.size()];
        // +Inf marks "not seen" (scores are finite), so a symbol's only score is kept even if it exceeds 1.0.
        Arrays.fill(result, Double.POSITIVE_INFINITY);
        int[] codePoints = plate.codePoints().toArray();
        int paired = Math.min(codePoints.length, charScores.length);
        for (int i = 0; i < paired; i++) {
            int slot = indexOf(codePoints[i]);
            if (slot >= 0) {
                result[slot] = Math.min(result[slot], charScores[i]);
            }
        }
        for (int i = 0; i < result.length; i++) {
            if (result[i] == Double.POSITIVE_INFINITY) {
                result[i] = 1.0;
            }
        }
        return result;
    }

    private static int indexOf(int codePoint) {
        for (int i = 0; i < ALPHABET.size(); i++) {
            if (ALPHABET.get(i).codePointAt(0) == codePoint) {
                return i;
            }
        }
        return -1;
    }
}

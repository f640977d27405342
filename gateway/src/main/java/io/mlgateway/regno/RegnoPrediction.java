package io.mlgateway.regno;

/** Class probabilities of one recognition: {@code positive} = σ(raw), {@code negative} = 1 − positive. */
public record RegnoPrediction(double negative, double positive) {

    public static RegnoPrediction fromRaw(double raw) {
        double positive = 1.0 / (1.0 + Math.exp(-raw));
        return new RegnoPrediction(1.0 - positive, positive);
    }
}

package io.mlgateway.regno;

import java.time.LocalDateTime;

/**
 * One licence-plate recognition to check, validated. Field names on the wire are those of the customer's
 * service and of test_data.csv; {@link RegnoRequestParser} owns that mapping.
 *
 * @param regnoRecognize      the camera's plate
 * @param aftsRegnoAi         the neural net's plate
 * @param charScores          the NN's score per plate character
 * @param lengthScores        the NN's score per candidate plate length
 */
public record RegnoRequest(
        String regnoRecognize,
        String aftsRegnoAi,
        double recognitionAccuracy,
        double aftsRegnoAiScore,
        double[] charScores,
        double[] lengthScores,
        String cameraType,
        String cameraClass,
        LocalDateTime timeCheck,
        int direction) {
}

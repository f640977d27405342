package io.mlgateway.core.modelstore;

/** A model about to be stored; the registry assigns its version. */
public record NewModel(String userId, Long parentVersion, String format, byte[] bytes, int numTrees, String metrics) {
}

package io.mlgateway.core.modelstore;

import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;

/**
 * How boosters are stored (registry bytes, Redis value): XGBoost's Universal Binary JSON, its compact lossless
 * native format. The format name is stored beside the bytes so a later format can coexist with old versions.
 */
public final class ModelFormat {

    public static final String XGBOOST_UBJ = "xgboost-ubj";

    private ModelFormat() {
    }

    public static byte[] serialize(Booster booster) {
        try {
            return booster.toByteArray("ubj");
        } catch (XGBoostError e) {
            throw new IllegalStateException("cannot serialize booster: " + e.getMessage(), e);
        }
    }

    /** A new native booster: the caller owns it and must {@link Booster#dispose()} it. */
    public static Booster deserialize(String format, byte[] bytes) {
        if (!XGBOOST_UBJ.equals(format)) {
            throw new IllegalArgumentException("unknown model format '" + format + "'");
        }
        try {
            Booster booster = XGBoost.loadModel(bytes);
            // The saved model does not keep nthread; left unset, every predict call fans out to all cores'
            // OpenMP threads, which on a busy machine costs milliseconds per call. Concurrency comes from the
            // callers (the gateway's scoring pool, one retrain per thread), so each call stays on its own thread.
            booster.setParam("nthread", 1);
            return booster;
        } catch (XGBoostError | java.io.IOException e) {
            throw new IllegalStateException("cannot load booster: " + e.getMessage(), e);
        }
    }
}

package io.mlgateway.shared.inferencelog;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.storage.BinaryArray;
import io.r2dbc.spi.Readable;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;

/**
 * The inference log table {@code rental_predictions}. All SQL the gateway runs on it lives here.
 *
 * <p>A batch is written by ONE statement whatever its size: every column travels as one array parameter and
 * {@code unnest} turns them back into rows. {@code features} is a {@code REAL[]} per row, and {@code unnest} of a
 * 2-D array would flatten it, so the vectors travel as one flat {@code real[]} of {@code rows × 12} values and
 * each row takes its slice by ordinality. Measured on the local PostgreSQL 15 for 1,000 rows: 13-25 ms, the same
 * as sending the vectors as {@code text[]} literals cast to {@code real[]} (without formatting floats as text),
 * and about 15 times faster than a {@code VALUES} list of 6,000 bind markers (230-1,300 ms).
 *
 * <p>{@code ON CONFLICT (request_id) DO NOTHING} makes a retried batch harmless: a write that timed out on the
 * client but committed on the server is simply not inserted twice.
 */
public class PredictionTable {

    private static final int WIDTH = RentalFeatures.COUNT;

    // Slices of a 1-D array always start at subscript 1, so every stored vector is a plain features[1:12].
    private static final String INSERT = "INSERT INTO rental_predictions"
            + " (request_id, user_id, model_version, features, prediction, created_at)"
            + " SELECT r.request_id, r.user_id, r.model_version,"
            + " ($4::real[])[(r.n - 1) * " + WIDTH + " + 1 : r.n * " + WIDTH + "], r.prediction, r.created_at"
            + " FROM unnest($1::uuid[], $2::text[], $3::bigint[], $5::float8[], $6::timestamptz[])"
            + " WITH ORDINALITY AS r (request_id, user_id, model_version, prediction, created_at, n)"
            + " ON CONFLICT (request_id) DO NOTHING";

    private final DatabaseClient db;

    public PredictionTable(DatabaseClient db) {
        this.db = db;
    }

    /**
     * Inserts {@code batch} in one statement. Rows whose request id is already stored are skipped, so the Mono
     * emits how many rows were new: {@code batch.size()} on a first write, fewer on a retry of a batch that had
     * (partly) committed. Timestamps are stored to the microsecond, as PostgreSQL keeps them.
     */
    public Mono<Long> insert(List<PredictionRecord> batch) {
        if (batch.isEmpty()) {
            return Mono.just(0L);
        }
        int rows = batch.size();
        UUID[] requestIds = new UUID[rows];
        String[] userIds = new String[rows];
        long[] modelVersions = new long[rows];
        float[] features = RentalFeatures.rowMajor(batch.stream().map(PredictionRecord::features).toList());
        double[] predictions = new double[rows];
        Instant[] createdAt = new Instant[rows];
        for (int i = 0; i < rows; i++) {
            PredictionRecord r = batch.get(i);
            requestIds[i] = r.requestId();
            userIds[i] = r.userId();
            modelVersions[i] = r.modelVersion();
            predictions[i] = r.prediction();
            createdAt[i] = r.createdAt();
        }
        // Binary, not the driver's text arrays: see BinaryArray.
        return db.sql(INSERT)
                .bind(0, BinaryArray.uuids(requestIds))
                .bind(1, BinaryArray.texts(userIds))
                .bind(2, BinaryArray.int8s(modelVersions))
                .bind(3, BinaryArray.float4s(features))
                .bind(4, BinaryArray.float8s(predictions))
                .bind(5, BinaryArray.timestamptzs(createdAt))
                .fetch()
                .rowsUpdated();
    }

    /** Whether a prediction with this request id is stored. */
    public Mono<Boolean> exists(UUID requestId) {
        return db.sql("SELECT EXISTS (SELECT 1 FROM rental_predictions WHERE request_id = $1) AS present")
                .bind(0, requestId)
                .map(row -> row.get("present", Boolean.class))
                .one();
    }

    /** The stored prediction, or empty. */
    public Mono<PredictionRecord> find(UUID requestId) {
        return db.sql("SELECT request_id, user_id, model_version, features, prediction, created_at"
                        + " FROM rental_predictions WHERE request_id = $1")
                .bind(0, requestId)
                .map(PredictionTable::toRecord)
                .one();
    }

    /** The {@code features} column of a row that selected it (a {@code REAL[]} in model order). */
    public static float[] features(Readable row) {
        Float[] stored = row.get("features", Float[].class);
        float[] features = new float[stored.length];
        for (int i = 0; i < stored.length; i++) {
            features[i] = stored[i];
        }
        return features;
    }

    private static PredictionRecord toRecord(Readable row) {
        return new PredictionRecord(
                row.get("request_id", UUID.class),
                row.get("user_id", String.class),
                row.get("model_version", Long.class),
                features(row),
                row.get("prediction", Double.class),
                row.get("created_at", OffsetDateTime.class).toInstant());
    }
}

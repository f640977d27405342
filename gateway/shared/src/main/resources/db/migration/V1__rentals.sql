-- Rentals: the model registry, the inference log and the ground truth. The gateway owns and applies these
-- migrations (Flyway, io.mlgateway.core.schema.SchemaMigrations); the retrainer only checks the version.

-- Every stored model, base or per-user. Versions are global and increasing, so a version alone names a model.
CREATE TABLE rental_models (
    version        BIGSERIAL PRIMARY KEY,
    user_id        TEXT        NOT NULL,          -- '_base' for the shared base model
    parent_version BIGINT      REFERENCES rental_models (version),
    format         TEXT        NOT NULL,          -- see ModelFormat
    model          BYTEA       NOT NULL,
    num_trees      INTEGER     NOT NULL,
    metrics        JSONB       NOT NULL DEFAULT '{}'::jsonb,
    status         TEXT        NOT NULL,          -- 'active' | 'rejected'
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX rental_models_user ON rental_models (user_id, version DESC);

-- The version each user is served now. Moving a head is a compare-and-set on its version, so a stale writer
-- can never replace a newer model.
CREATE TABLE rental_model_heads (
    user_id    TEXT        PRIMARY KEY,
    version    BIGINT      NOT NULL REFERENCES rental_models (version),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every answered prediction, with the feature vector in model order (RentalFeatures.NAMES).
CREATE TABLE rental_predictions (
    request_id    UUID             PRIMARY KEY,
    user_id       TEXT             NOT NULL,
    model_version BIGINT           NOT NULL,
    features      REAL[]           NOT NULL,
    prediction    DOUBLE PRECISION NOT NULL,
    created_at    TIMESTAMPTZ      NOT NULL
);
CREATE INDEX rental_predictions_user ON rental_predictions (user_id, created_at);

-- Ground truth, one per prediction. id is the arrival order the retrainer's watermark follows.
CREATE TABLE actual_rentals (
    id           BIGSERIAL        NOT NULL UNIQUE,
    request_id   UUID             PRIMARY KEY REFERENCES rental_predictions (request_id),
    user_id      TEXT             NOT NULL,
    actual_value DOUBLE PRECISION NOT NULL,
    "timestamp"  TIMESTAMPTZ      NOT NULL,
    received_at  TIMESTAMPTZ      NOT NULL DEFAULT now()
);
CREATE INDEX actual_rentals_user ON actual_rentals (user_id, id);

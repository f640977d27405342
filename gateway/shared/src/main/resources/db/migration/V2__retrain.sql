-- Retraining (the retrainer reads and writes these; the gateway owns the migrations).

-- The model version that consumed each actual; NULL = new. Set in the same transaction that stores that
-- version, so every actual trains exactly one update even when inserts commit out of order (a late commit is
-- simply still NULL next time), after crashes, or with several retrainers (only one can mark a row).
ALTER TABLE actual_rentals ADD COLUMN used_in_version BIGINT REFERENCES rental_models (version);
CREATE INDEX actual_rentals_new ON actual_rentals (user_id, id) WHERE used_in_version IS NULL;

-- Per-user bookkeeping: when the model last changed, and the cool-down after a failed retrain.
CREATE TABLE retrain_state (
    user_id      TEXT        PRIMARY KEY,
    last_update  TIMESTAMPTZ,
    last_version BIGINT      REFERENCES rental_models (version),
    failures     INTEGER     NOT NULL DEFAULT 0,
    last_failure TEXT,
    retry_after  TIMESTAMPTZ
);

-- Transactional outbox: the announcement of a stored version (or of a failure) is written in the same
-- transaction as the model, so it is sent even if the process dies between store and notify.
CREATE TABLE retrain_outbox (
    id           BIGSERIAL   PRIMARY KEY,
    user_id      TEXT        NOT NULL,
    status       TEXT        NOT NULL,
    version      BIGINT,
    reason       TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ
);
CREATE INDEX retrain_outbox_unpublished ON retrain_outbox (id) WHERE published_at IS NULL;

-- Wakes the retrainer (LISTEN actual_rentals) with the user id of each new actual; PostgreSQL folds identical
-- notifications within one transaction. The retrainer's periodic sweep covers anything missed.
CREATE FUNCTION notify_actual_rentals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('actual_rentals', NEW.user_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER actual_rentals_notify AFTER INSERT ON actual_rentals
    FOR EACH ROW EXECUTE FUNCTION notify_actual_rentals();

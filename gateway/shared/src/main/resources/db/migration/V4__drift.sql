-- Drift: whether the user's recent requests were last seen above the drift threshold against its model's training
-- reference. A retrain is triggered when this turns true (once per crossing, not on every sweep); it turns false
-- again when drift falls back below the threshold or a new model (with a new reference) is promoted.
ALTER TABLE retrain_state ADD COLUMN drift_above BOOLEAN NOT NULL DEFAULT false;

-- Models layered on a shared base (ModelFormat trees-v1): a user's model holds only its own trees and names the
-- base whose prediction they add to. The reference keeps a base from being deleted while a model builds on it.
ALTER TABLE rental_models ADD COLUMN base_version BIGINT REFERENCES rental_models (version);
ALTER TABLE rental_models ADD COLUMN own_trees INTEGER;
-- Every model stored before stands alone: all its trees are its own.
UPDATE rental_models SET own_trees = num_trees;
ALTER TABLE rental_models ALTER COLUMN own_trees SET NOT NULL;
CREATE INDEX rental_models_base ON rental_models (base_version) WHERE base_version IS NOT NULL;

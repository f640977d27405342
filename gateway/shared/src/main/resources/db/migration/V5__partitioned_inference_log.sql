-- The inference log, partitioned by day so that it can be kept for a bounded time: at 30,000 predictions/s a day
-- is 2.6 billion rows, and dropping a day's partition is instant where deleting its rows is not.
--
-- The partition key is the request id itself. Request ids are UUIDv7 (RequestIds): their first 48 bits are the
-- millisecond they were made, and PostgreSQL orders uuids byte by byte, so a day is a range of ids. Keyed so, the
-- primary key stays (request_id) alone, actual_rentals keeps its foreign key, and looking up one request id (an
-- actual arriving) reads one partition. Ids outside every day's partition (none today; ids of another kind, or a
-- day nobody created) land in the default partition: never refused, never lost.
--
-- Partitions are created ahead by rental_predictions_ensure_partitions, which the gateway calls at start and the
-- retrainer on its maintenance schedule; the retrainer also drops days past the retention it is configured with,
-- never one holding rows it still needs (PredictionPartitions, InferenceLogRetention).

-- The first id of a UTC instant: its millisecond in the first 48 bits, zeros after.
CREATE FUNCTION rental_predictions_first_id(at timestamptz) RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT (lpad(to_hex(floor(extract(epoch FROM at) * 1000)::bigint), 12, '0') || repeat('0', 20))::uuid
$$;

-- Creates the partitions of days first_day..last_day (UTC) that do not exist yet; returns how many it created. A day
-- whose ids already sit in the default partition is left there (reported by a NOTICE): attaching it would mean
-- moving rows under a lock, and they are safe where they are. Concurrent callers are serialized by a lock.
CREATE FUNCTION rental_predictions_ensure_partitions(first_day date, last_day date) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    day     date;
    name    text;
    created integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('rental_predictions partitions'));
    FOR day IN SELECT generate_series(first_day, last_day, interval '1 day')::date LOOP
        name := 'rental_predictions_' || to_char(day, 'YYYYMMDD');
        CONTINUE WHEN to_regclass(name) IS NOT NULL;
        BEGIN
            EXECUTE format('CREATE TABLE %I PARTITION OF rental_predictions FOR VALUES FROM (%L) TO (%L)', name,
                    rental_predictions_first_id(day::timestamp AT TIME ZONE 'UTC'),
                    rental_predictions_first_id((day + 1)::timestamp AT TIME ZONE 'UTC'));
            created := created + 1;
        EXCEPTION WHEN check_violation THEN
            RAISE NOTICE 'rental_predictions: % stays in the default partition (it holds rows of that day)', day;
        END;
    END LOOP;
    RETURN created;
END
$$;

-- Drops the partition of one day, with the actuals of its predictions, unless it holds a row the retrainer still
-- needs: a prediction whose actual is not yet used by a model, or one of the latest keep_latest actuals of its user
-- (the window a refit or rebuild trains on). Returns whether it dropped.
--
-- Whether a stored actual is needed only ever changes from yes to no (it gets used; newer ones push it out of the
-- window), so the check runs without locks and the day's actuals are deleted before any lock is taken. Detaching
-- the partition then needs the parent locked: actual_rentals first, then rental_predictions, the order an actual's
-- insert takes them, each wait bounded by 200 ms (below PostgreSQL's deadlock_timeout, so a client's write never
-- loses to this). Busy: false, and the next pass tries again. Under the locks, an actual that arrived meanwhile for
-- the day keeps it.
CREATE FUNCTION rental_predictions_drop_day(day date, keep_latest integer) RETURNS boolean
    LANGUAGE plpgsql AS $$
DECLARE
    name   text := 'rental_predictions_' || to_char(day, 'YYYYMMDD');
    low    uuid := rental_predictions_first_id(day::timestamp AT TIME ZONE 'UTC');
    high   uuid := rental_predictions_first_id((day + 1)::timestamp AT TIME ZONE 'UTC');
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('rental_predictions partitions'));
    IF to_regclass(name) IS NULL THEN
        RETURN false;
    END IF;
    IF EXISTS (
            SELECT 1 FROM actual_rentals a
            WHERE a.request_id >= low AND a.request_id < high
              AND (a.used_in_version IS NULL
                   OR a.id >= (SELECT min(w.id) FROM (SELECT b.id FROM actual_rentals b WHERE b.user_id = a.user_id
                                                      ORDER BY b.id DESC LIMIT keep_latest) w))) THEN
        RETURN false;
    END IF;
    DELETE FROM actual_rentals WHERE request_id >= low AND request_id < high;
    BEGIN
        SET LOCAL lock_timeout = '200ms';
        LOCK TABLE actual_rentals IN SHARE ROW EXCLUSIVE MODE;
        LOCK TABLE rental_predictions IN ACCESS EXCLUSIVE MODE;
    EXCEPTION WHEN lock_not_available THEN
        RETURN false;
    END;
    IF EXISTS (SELECT 1 FROM actual_rentals WHERE request_id >= low AND request_id < high) THEN
        RETURN false;
    END IF;
    EXECUTE format('ALTER TABLE rental_predictions DETACH PARTITION %I', name);
    EXECUTE format('DROP TABLE %I', name);
    RETURN true;
END
$$;

ALTER TABLE actual_rentals DROP CONSTRAINT actual_rentals_request_id_fkey;
ALTER TABLE rental_predictions RENAME TO rental_predictions_unpartitioned;
ALTER INDEX rental_predictions_pkey RENAME TO rental_predictions_unpartitioned_pkey;
ALTER INDEX rental_predictions_user RENAME TO rental_predictions_unpartitioned_user;

CREATE TABLE rental_predictions (
    request_id    UUID             NOT NULL,
    user_id       TEXT             NOT NULL,
    model_version BIGINT           NOT NULL,
    features      REAL[]           NOT NULL,
    prediction    DOUBLE PRECISION NOT NULL,
    created_at    TIMESTAMPTZ      NOT NULL,
    PRIMARY KEY (request_id)
) PARTITION BY RANGE (request_id);
CREATE TABLE rental_predictions_default PARTITION OF rental_predictions DEFAULT;
CREATE INDEX rental_predictions_user ON rental_predictions (user_id, created_at);

-- A partition for every day the log already has ids of, and for the coming week; then the rows move over.
SELECT rental_predictions_ensure_partitions(
        least(now() AT TIME ZONE 'UTC', (SELECT min(created_at) FROM rental_predictions_unpartitioned) AT TIME ZONE 'UTC')::date,
        (now() AT TIME ZONE 'UTC')::date + 7);
INSERT INTO rental_predictions SELECT * FROM rental_predictions_unpartitioned;
DROP TABLE rental_predictions_unpartitioned;

ALTER TABLE actual_rentals ADD CONSTRAINT actual_rentals_request_id_fkey
    FOREIGN KEY (request_id) REFERENCES rental_predictions (request_id);

-- A record already in the data-quality queue is queued again with an update, not skipped
-- (migration 24 skipped it): the row lock makes a refresh that takes the record from the queue
-- wait for the writing transaction, and then read what it wrote (READ COMMITTED). Skipped, a
-- refresh running between the write and its commit could check the record as it was before and
-- drop it from the queue, leaving its findings stale until the nightly re-check.
CREATE OR REPLACE FUNCTION persons_quality_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO quality_dirty (person_id) SELECT id FROM added
        ON CONFLICT (person_id) DO UPDATE SET person_id = excluded.person_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION persons_quality_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO quality_dirty (person_id) VALUES (NEW.id)
        ON CONFLICT (person_id) DO UPDATE SET person_id = excluded.person_id;
    RETURN NULL;
END
$$;

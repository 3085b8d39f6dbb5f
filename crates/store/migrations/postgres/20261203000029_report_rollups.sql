-- Report roll-ups (issue 12): the grouped people and facts of each month, kept per unit and
-- summed into every unit above, so that a monthly report of a county or a province reads the
-- rows of its own unit rather than grouping every record of its subtree. A month is built once
-- (a grouped pass over every record, by the nightly job); afterwards a trigger queues the unit
-- of every record a write touches, and the service groups that unit's records again and moves
-- the difference into the unit and each unit above it.
CREATE TABLE report_rollups (
    month     TEXT NOT NULL,
    -- The path of the unit whose subtree the row counts in.
    holder    TEXT COLLATE "C" NOT NULL,
    -- 0: people by the unit directly below (no reason, reach, province); 1: facts by the unit
    -- directly below; 2: people with reason, reach and province of the units below, summed
    -- (child always ''); 3: the same, of the holder's own records (what a refresh subtracts).
    kind      SMALLINT NOT NULL,
    -- The code of the unit directly below the holder that manages the people ('' the holder).
    child     TEXT COLLATE "C" NOT NULL,
    direction TEXT NOT NULL,
    gender    TEXT NOT NULL,
    age       INTEGER NOT NULL,
    marital   TEXT NOT NULL,
    reason    TEXT NOT NULL,
    reach     TEXT NOT NULL,
    province  TEXT NOT NULL,
    at_end    INTEGER NOT NULL,
    arrived   INTEGER NOT NULL,
    gone      INTEGER NOT NULL,
    flags     BIGINT NOT NULL,
    born      BIGINT NOT NULL,
    delivered BIGINT NOT NULL,
    count     BIGINT NOT NULL,
    PRIMARY KEY (month, holder, kind, child, direction, gender, age, marital, reason, reach, province,
                 at_end, arrived, gone, flags, born, delivered)
);

-- The months kept: `building` while the nightly job groups them, `ready` once they are whole.
CREATE TABLE report_rollup_months (
    month      TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    -- Each build of the month takes the next number; only the latest may finish it.
    build      BIGINT NOT NULL DEFAULT 0
);

-- Units whose records changed since their roll-ups were last moved. Queued again with an update
-- (not DO NOTHING), so that a refresh deleting a unit waits for the writer's commit.
CREATE TABLE report_dirty (unit_path TEXT COLLATE "C" PRIMARY KEY);

-- One row: the lock every change of the roll-ups takes first.
CREATE TABLE report_rollup_state (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    refreshes BIGINT NOT NULL DEFAULT 0
);
INSERT INTO report_rollup_state (id) VALUES (1);

-- Per statement, from the transition tables, each unit once and in path order (two statements
-- queueing the same units lock them in the same order).
CREATE FUNCTION persons_rollups_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_dirty (unit_path) SELECT DISTINCT managing_path FROM changed ORDER BY 1
        ON CONFLICT (unit_path) DO UPDATE SET unit_path = excluded.unit_path;
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_rollups_insert AFTER INSERT ON persons REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION persons_rollups_added();
CREATE TRIGGER persons_rollups_delete AFTER DELETE ON persons REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION persons_rollups_added();

CREATE FUNCTION persons_rollups_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_dirty (unit_path)
        SELECT v.path FROM (
            SELECT o.managing_path AS old_path, n.managing_path AS new_path FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.managing_path, o.status, o.direction, o.gender, o.birth_date, o.marital_status, o.move_reason,
                   o.hukou_area, o.residence_area, o.moved_on, o.ended_on)
                  IS DISTINCT FROM
                  (n.managing_path, n.status, n.direction, n.gender, n.birth_date, n.marital_status, n.move_reason,
                   n.hukou_area, n.residence_area, n.moved_on, n.ended_on)) m,
            LATERAL (VALUES (m.old_path), (m.new_path)) v (path)
        GROUP BY v.path ORDER BY v.path
        ON CONFLICT (unit_path) DO UPDATE SET unit_path = excluded.unit_path;
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_rollups_update AFTER UPDATE ON persons REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION persons_rollups_changed();

CREATE FUNCTION sections_rollups_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_dirty (unit_path)
        SELECT DISTINCT p.managing_path FROM persons p WHERE p.id IN (SELECT person_id FROM changed) ORDER BY 1
        ON CONFLICT (unit_path) DO UPDATE SET unit_path = excluded.unit_path;
    RETURN NULL;
END
$$;
CREATE TRIGGER person_pregnancies_rollups_insert AFTER INSERT ON person_pregnancies REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_pregnancies_rollups_update AFTER UPDATE ON person_pregnancies REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_pregnancies_rollups_update_old AFTER UPDATE ON person_pregnancies REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_pregnancies_rollups_delete AFTER DELETE ON person_pregnancies REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_children_rollups_insert AFTER INSERT ON person_children REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_children_rollups_update AFTER UPDATE ON person_children REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_children_rollups_update_old AFTER UPDATE ON person_children REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_children_rollups_delete AFTER DELETE ON person_children REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_certificates_rollups_insert AFTER INSERT ON person_certificates REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_certificates_rollups_update AFTER UPDATE ON person_certificates REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_certificates_rollups_update_old AFTER UPDATE ON person_certificates REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_certificates_rollups_delete AFTER DELETE ON person_certificates REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_services_rollups_insert AFTER INSERT ON person_services REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_services_rollups_update AFTER UPDATE ON person_services REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_services_rollups_update_old AFTER UPDATE ON person_services REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_services_rollups_delete AFTER DELETE ON person_services REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_checks_rollups_insert AFTER INSERT ON person_checks REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_checks_rollups_update AFTER UPDATE ON person_checks REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_checks_rollups_update_old AFTER UPDATE ON person_checks REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();
CREATE TRIGGER person_checks_rollups_delete AFTER DELETE ON person_checks REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_rollups_changed();

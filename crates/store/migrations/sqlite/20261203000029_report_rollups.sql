-- Report roll-ups (issue 12): the grouped people and facts of each month, kept per unit and
-- summed into every unit above, so that a monthly report of a county or a province reads the
-- rows of its own unit rather than grouping every record of its subtree. A month is built once
-- (a grouped pass over every record, by the nightly job); afterwards a trigger queues the unit
-- of every record a write touches, and the service groups that unit's records again and moves
-- the difference into the unit and each unit above it.
CREATE TABLE report_rollups (
    month     TEXT NOT NULL,
    -- The path of the unit whose subtree the row counts in.
    holder    TEXT NOT NULL,
    -- 0: people by the unit directly below (no reason, reach, province); 1: facts by the unit
    -- directly below; 2: people with reason, reach and province of the units below, summed
    -- (child always ''); 3: the same, of the holder's own records (what a refresh subtracts).
    kind      INTEGER NOT NULL,
    -- The code of the unit directly below the holder that manages the people ('' the holder).
    child     TEXT NOT NULL,
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
    flags     INTEGER NOT NULL,
    born      INTEGER NOT NULL,
    delivered INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (month, holder, kind, child, direction, gender, age, marital, reason, reach, province,
                 at_end, arrived, gone, flags, born, delivered)
) WITHOUT ROWID;

-- The months kept: `building` while the nightly job groups them, `ready` once they are whole.
CREATE TABLE report_rollup_months (
    month      TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    -- Each build of the month takes the next number; only the latest may finish it.
    build      INTEGER NOT NULL DEFAULT 0
);

-- Units whose records changed since their roll-ups were last moved.
CREATE TABLE report_dirty (unit_path TEXT PRIMARY KEY);

-- One row: the lock every change of the roll-ups takes first.
CREATE TABLE report_rollup_state (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    refreshes INTEGER NOT NULL DEFAULT 0
);
INSERT INTO report_rollup_state (id) VALUES (1);

CREATE TRIGGER persons_rollups_insert AFTER INSERT ON persons
BEGIN INSERT OR IGNORE INTO report_dirty (unit_path) VALUES (NEW.managing_path); END;
CREATE TRIGGER persons_rollups_update AFTER UPDATE OF managing_path, status, direction, gender, birth_date,
    marital_status, move_reason, hukou_area, residence_area, moved_on, ended_on ON persons
BEGIN
    INSERT OR IGNORE INTO report_dirty (unit_path) VALUES (OLD.managing_path);
    INSERT OR IGNORE INTO report_dirty (unit_path) VALUES (NEW.managing_path);
END;
CREATE TRIGGER persons_rollups_delete AFTER DELETE ON persons
BEGIN INSERT OR IGNORE INTO report_dirty (unit_path) VALUES (OLD.managing_path); END;

CREATE TRIGGER person_pregnancies_rollups_insert AFTER INSERT ON person_pregnancies
BEGIN INSERT OR IGNORE INTO report_dirty (unit_path) SELECT managing_path FROM persons WHERE id = NEW.person_id; END;
CREATE TRIGGER person_pregnancies_rollups_update AFTER UPDATE ON person_pregnancies
BEGIN
    INSERT OR IGNORE INTO report_dirty (unit_path) SELECT managing_path FROM persons WHERE id IN (OLD.person_id, NEW.person_id);
END;
CREATE TRIGGER person_pregnancies_rollups_delete AFTER DELETE ON person_pregnancies
BEGIN INSERT OR IGNORE INTO report_dirty (unit_path) SELECT managing_path FROM persons WHERE id = OLD.person_id; END;

CREATE TRIGGER person_children_rollups_insert AFTER INSERT ON person_children
BEGIN INSERT OR IGNORE INTO report_dirty (unit_path) SELECT managing_path FROM persons WHERE id = NEW.person_id; END;
CREATE TRIGGER person_children_rollups_update AFTER UPDATE ON person_children
BEGIN
    INSERT OR IGNORE INTO report_dirty (unit_path) SELECT managing_path FROM persons WHERE id IN (OLD.person_id, NEW.person_id);
END;
CREATE TRIGGER person_children_rollups_delete AFTER DELETE ON person_children
BEGIN INSERT OR IGNORE INTO report_dirty (unit_path) SELECT managing_path FROM persons WHERE id = OLD.person_id; END;

CREATE TRIGGER person_certificates_rollups_insert AFTER INSERT ON person_certificates
BEGIN INSERT OR IGNORE INTO report_dirty (unit_path) SELECT managing_path FROM persons WHERE id = NEW.person_id; END;
CREATE TRIGGER person_certificates_rollups_update AFTER UPDATE ON person_certificates
BEGIN
    INSERT OR IGNORE INTO report_dirty (unit_path) SELECT managing_path FROM persons WHERE id IN (OLD.person_id, NEW.person_id);
END;
CREATE TRIGGER person_certificates_rollups_delete AFTER DELETE ON person_certificates
BEGIN INSERT OR IGNORE INTO report_dirty (unit_path) SELECT managing_path FROM persons WHERE id = OLD.person_id; END;

CREATE TRIGGER person_services_rollups_insert AFTER INSERT ON person_services
BEGIN INSERT OR IGNORE INTO report_dirty (unit_path) SELECT managing_path FROM persons WHERE id = NEW.person_id; END;
CREATE TRIGGER person_services_rollups_update AFTER UPDATE ON person_services
BEGIN
    INSERT OR IGNORE INTO report_dirty (unit_path) SELECT managing_path FROM persons WHERE id IN (OLD.person_id, NEW.person_id);
END;
CREATE TRIGGER person_services_rollups_delete AFTER DELETE ON person_services
BEGIN INSERT OR IGNORE INTO report_dirty (unit_path) SELECT managing_path FROM persons WHERE id = OLD.person_id; END;

CREATE TRIGGER person_checks_rollups_insert AFTER INSERT ON person_checks
BEGIN INSERT OR IGNORE INTO report_dirty (unit_path) SELECT managing_path FROM persons WHERE id = NEW.person_id; END;
CREATE TRIGGER person_checks_rollups_update AFTER UPDATE ON person_checks
BEGIN
    INSERT OR IGNORE INTO report_dirty (unit_path) SELECT managing_path FROM persons WHERE id IN (OLD.person_id, NEW.person_id);
END;
CREATE TRIGGER person_checks_rollups_delete AFTER DELETE ON person_checks
BEGIN INSERT OR IGNORE INTO report_dirty (unit_path) SELECT managing_path FROM persons WHERE id = OLD.person_id; END;

-- Data-quality findings kept as data changes (issue 12): the quality page and the supervision
-- score read the findings of a unit instead of checking every record of a subtree per request.
-- A trigger puts every record whose checked fields change into `quality_dirty` in the writing
-- transaction, so no write path can forget it; the service drains the queue with the rules of
-- `domain::quality` (before a page is read, every minute, and after the daily re-check that puts
-- every record back in the queue for the rules that depend on the date or on the code tables).
CREATE TABLE quality_findings (
    person_id     INTEGER NOT NULL REFERENCES persons (id),
    rule          TEXT NOT NULL,
    detail        TEXT NOT NULL,
    managing_path TEXT NOT NULL,
    -- The ID number's blind index, on the duplicate rule's findings only: the group to re-check
    -- when one of its records changes number, unit or state.
    id_index      TEXT,
    PRIMARY KEY (person_id, rule, detail)
);
CREATE INDEX quality_findings_unit ON quality_findings (managing_path, rule, person_id);
CREATE INDEX quality_findings_rule ON quality_findings (rule, managing_path, person_id);
CREATE INDEX quality_findings_group ON quality_findings (id_index) WHERE id_index IS NOT NULL;

-- Findings per unit and rule, moved by the same transaction that replaces the findings.
CREATE TABLE quality_counts (
    managing_path TEXT NOT NULL,
    rule          TEXT NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (managing_path, rule)
);

CREATE TABLE quality_dirty (person_id INTEGER PRIMARY KEY);

-- One row: the lock a refresh takes first, and the day of the last full re-check.
CREATE TABLE quality_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    refreshes       INTEGER NOT NULL DEFAULT 0,
    rechecked_on    DATE
);
INSERT INTO quality_state (id) VALUES (1);

CREATE TRIGGER persons_quality_insert AFTER INSERT ON persons
BEGIN
    INSERT OR IGNORE INTO quality_dirty (person_id) VALUES (NEW.id);
END;

CREATE TRIGGER persons_quality_update AFTER UPDATE OF id_number, id_index, gender, birth_date, ethnicity,
    education, marital_status, managing_unit, managing_path, moved_on, registered_on, status, ended_on ON persons
BEGIN
    INSERT OR IGNORE INTO quality_dirty (person_id) VALUES (NEW.id);
END;

INSERT INTO quality_dirty (person_id) SELECT id FROM persons;

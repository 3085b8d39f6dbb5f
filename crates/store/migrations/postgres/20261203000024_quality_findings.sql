-- Data-quality findings kept as data changes (issue 12): the quality page and the supervision
-- score read the findings of a unit instead of checking every record of a subtree per request.
-- A trigger puts every record whose checked fields change into `quality_dirty` in the writing
-- transaction, so no write path can forget it; the service drains the queue with the rules of
-- `domain::quality` (before a page is read, every minute, and after the daily re-check that puts
-- every record back in the queue for the rules that depend on the date or on the code tables).
CREATE TABLE quality_findings (
    person_id     BIGINT NOT NULL REFERENCES persons (id),
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
    n             BIGINT NOT NULL,
    PRIMARY KEY (managing_path, rule)
);

CREATE TABLE quality_dirty (person_id BIGINT PRIMARY KEY);

-- One row: the lock a refresh takes first, and the day of the last full re-check.
CREATE TABLE quality_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    refreshes       BIGINT NOT NULL DEFAULT 0,
    rechecked_on    DATE
);
INSERT INTO quality_state (id) VALUES (1);

-- A bulk load reaches the queue once per statement; an edit once per row.
CREATE FUNCTION persons_quality_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO quality_dirty (person_id) SELECT id FROM added ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_quality_insert AFTER INSERT ON persons REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION persons_quality_added();

CREATE FUNCTION persons_quality_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO quality_dirty (person_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_quality_update AFTER UPDATE OF id_number, id_index, gender, birth_date, ethnicity,
    education, marital_status, managing_unit, managing_path, moved_on, registered_on, status, ended_on ON persons
    FOR EACH ROW EXECUTE FUNCTION persons_quality_changed();

INSERT INTO quality_dirty (person_id) SELECT id FROM persons;

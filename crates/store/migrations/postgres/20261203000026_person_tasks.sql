-- The clerk's day from maintained tasks (issue 12): what each record owes (prenatal and
-- postnatal care, an expected birth, a certificate running out, a late registration to check)
-- is kept per person with the days it shows, so that a unit's day is an index range of the
-- unit's showing tasks. Triggers queue every person whose facts change, in the writing
-- transaction; the service derives the queue's tasks with `domain::worklist::person_tasks`
-- (before the day is read, every few seconds, and in the nightly repair that derives all again).
CREATE TABLE person_tasks (
    id            BIGSERIAL PRIMARY KEY,
    person_id     BIGINT NOT NULL REFERENCES persons (id),
    task_key      TEXT NOT NULL,
    category      TEXT NOT NULL,
    detail_key    TEXT NOT NULL,
    detail        TEXT NOT NULL,
    due_on        DATE NOT NULL,
    show_from     DATE NOT NULL,
    -- The last day it shows; none while it is owed.
    hide_after    DATE,
    managing_path TEXT NOT NULL,
    UNIQUE (person_id, task_key)
);
CREATE INDEX person_tasks_unit ON person_tasks (managing_path, show_from, hide_after, due_on, category, id);
-- The counts per category, each capped (a county's day says "1,000+" rather than count them all).
CREATE INDEX person_tasks_category ON person_tasks (category, managing_path, show_from, hide_after);

CREATE TABLE task_dirty (person_id BIGINT PRIMARY KEY);

-- One row: the lock a derivation takes first, and the day of the last full repair.
CREATE TABLE task_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    refreshes   BIGINT NOT NULL DEFAULT 0,
    repaired_on DATE
);
INSERT INTO task_state (id) VALUES (1);

-- A new record makes work by itself only when registered late; its sections queue it later.
-- A bulk load reaches the queue once per statement. A person already queued is queued again
-- with an update, not skipped: the row lock makes a derivation that takes the person from the
-- queue wait for this transaction, and then read what it wrote (READ COMMITTED).
CREATE FUNCTION persons_tasks_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_dirty (person_id) SELECT id FROM added WHERE registered_on > moved_on ON CONFLICT (person_id) DO UPDATE SET person_id = excluded.person_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_tasks_insert AFTER INSERT ON persons REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION persons_tasks_added();

CREATE FUNCTION persons_tasks_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_dirty (person_id) VALUES (NEW.id) ON CONFLICT (person_id) DO UPDATE SET person_id = excluded.person_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_tasks_update AFTER UPDATE OF status, managing_path, moved_on, registered_on ON persons
    FOR EACH ROW EXECUTE FUNCTION persons_tasks_changed();

-- The sections that make work: every insert, update and delete, once per statement.
CREATE FUNCTION sections_tasks_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_dirty (person_id) SELECT DISTINCT person_id FROM changed ON CONFLICT (person_id) DO UPDATE SET person_id = excluded.person_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER person_pregnancies_tasks_insert AFTER INSERT ON person_pregnancies REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_tasks_changed();
CREATE TRIGGER person_pregnancies_tasks_update AFTER UPDATE ON person_pregnancies REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_tasks_changed();
CREATE TRIGGER person_pregnancies_tasks_delete AFTER DELETE ON person_pregnancies REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_tasks_changed();
CREATE TRIGGER person_children_tasks_insert AFTER INSERT ON person_children REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_tasks_changed();
CREATE TRIGGER person_children_tasks_update AFTER UPDATE ON person_children REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_tasks_changed();
CREATE TRIGGER person_children_tasks_delete AFTER DELETE ON person_children REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_tasks_changed();
CREATE TRIGGER person_checks_tasks_insert AFTER INSERT ON person_checks REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_tasks_changed();
CREATE TRIGGER person_checks_tasks_update AFTER UPDATE ON person_checks REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_tasks_changed();
CREATE TRIGGER person_checks_tasks_delete AFTER DELETE ON person_checks REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_tasks_changed();
CREATE TRIGGER person_certificates_tasks_insert AFTER INSERT ON person_certificates REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_tasks_changed();
CREATE TRIGGER person_certificates_tasks_update AFTER UPDATE ON person_certificates REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_tasks_changed();
CREATE TRIGGER person_certificates_tasks_delete AFTER DELETE ON person_certificates REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION sections_tasks_changed();

INSERT INTO task_dirty (person_id)
    SELECT id FROM persons WHERE registered_on > moved_on
    UNION SELECT person_id FROM person_pregnancies
    UNION SELECT person_id FROM person_children
    UNION SELECT person_id FROM person_checks
    UNION SELECT person_id FROM person_certificates
    ON CONFLICT DO NOTHING;

-- The clerk's day from maintained tasks (issue 12): what each record owes (prenatal and
-- postnatal care, an expected birth, a certificate running out, a late registration to check)
-- is kept per person with the days it shows, so that a unit's day is an index range of the
-- unit's showing tasks. Triggers queue every person whose facts change, in the writing
-- transaction; the service derives the queue's tasks with `domain::worklist::person_tasks`
-- (before the day is read, every few seconds, and in the nightly repair that derives all again).
CREATE TABLE person_tasks (
    id            INTEGER PRIMARY KEY,
    person_id     INTEGER NOT NULL REFERENCES persons (id),
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
CREATE INDEX person_tasks_unit ON person_tasks (managing_path, show_from, hide_after, due_on, category);
-- The counts per category, each capped (a county's day says "1,000+" rather than count them all).
CREATE INDEX person_tasks_category ON person_tasks (category, managing_path, show_from, hide_after);

CREATE TABLE task_dirty (person_id INTEGER PRIMARY KEY);

-- One row: the lock a derivation takes first, and the day of the last full repair.
CREATE TABLE task_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    refreshes   INTEGER NOT NULL DEFAULT 0,
    repaired_on DATE
);
INSERT INTO task_state (id) VALUES (1);

-- A new record makes work by itself only when registered late; its sections queue it later.
CREATE TRIGGER persons_tasks_insert AFTER INSERT ON persons WHEN NEW.registered_on > NEW.moved_on
BEGIN
    INSERT OR IGNORE INTO task_dirty (person_id) VALUES (NEW.id);
END;
CREATE TRIGGER persons_tasks_update AFTER UPDATE OF status, managing_path, moved_on, registered_on ON persons
BEGIN
    INSERT OR IGNORE INTO task_dirty (person_id) VALUES (NEW.id);
END;

CREATE TRIGGER person_pregnancies_tasks_insert AFTER INSERT ON person_pregnancies
BEGIN INSERT OR IGNORE INTO task_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER person_pregnancies_tasks_update AFTER UPDATE ON person_pregnancies
BEGIN INSERT OR IGNORE INTO task_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER person_pregnancies_tasks_delete AFTER DELETE ON person_pregnancies
BEGIN INSERT OR IGNORE INTO task_dirty (person_id) VALUES (OLD.person_id); END;

CREATE TRIGGER person_children_tasks_insert AFTER INSERT ON person_children
BEGIN INSERT OR IGNORE INTO task_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER person_children_tasks_update AFTER UPDATE ON person_children
BEGIN INSERT OR IGNORE INTO task_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER person_children_tasks_delete AFTER DELETE ON person_children
BEGIN INSERT OR IGNORE INTO task_dirty (person_id) VALUES (OLD.person_id); END;

CREATE TRIGGER person_checks_tasks_insert AFTER INSERT ON person_checks
BEGIN INSERT OR IGNORE INTO task_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER person_checks_tasks_update AFTER UPDATE ON person_checks
BEGIN INSERT OR IGNORE INTO task_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER person_checks_tasks_delete AFTER DELETE ON person_checks
BEGIN INSERT OR IGNORE INTO task_dirty (person_id) VALUES (OLD.person_id); END;

CREATE TRIGGER person_certificates_tasks_insert AFTER INSERT ON person_certificates
BEGIN INSERT OR IGNORE INTO task_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER person_certificates_tasks_update AFTER UPDATE ON person_certificates
BEGIN INSERT OR IGNORE INTO task_dirty (person_id) VALUES (NEW.person_id); END;
CREATE TRIGGER person_certificates_tasks_delete AFTER DELETE ON person_certificates
BEGIN INSERT OR IGNORE INTO task_dirty (person_id) VALUES (OLD.person_id); END;

INSERT OR IGNORE INTO task_dirty (person_id)
    SELECT id FROM persons WHERE registered_on > moved_on
    UNION SELECT person_id FROM person_pregnancies
    UNION SELECT person_id FROM person_children
    UNION SELECT person_id FROM person_checks
    UNION SELECT person_id FROM person_certificates;

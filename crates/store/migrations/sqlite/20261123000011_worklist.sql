-- The clerk's day: marks that a unit put on its tasks (done, or snoozed until a day, with the
-- reason). Tasks themselves are derived from the records each time; a mark is kept per unit and
-- task key, the latest one counting, and none is ever deleted.
CREATE TABLE worklist_marks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    unit       TEXT NOT NULL,
    task_key   TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('done', 'snoozed')),
    until      TEXT,
    reason     TEXT NOT NULL DEFAULT '',
    actor_name TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX worklist_marks_unit ON worklist_marks (unit, id);
CREATE INDEX person_pregnancies_open ON person_pregnancies (person_id) WHERE outcome IS NULL;
CREATE INDEX person_checks_kind ON person_checks (person_id, kind, done_on);
CREATE INDEX persons_registered ON persons (managing_path, registered_on);

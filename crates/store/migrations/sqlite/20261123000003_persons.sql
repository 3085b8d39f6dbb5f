-- Personal records (个案) and their change history.
CREATE TABLE persons (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    province_code     TEXT NOT NULL,
    id_number         TEXT,
    name              TEXT NOT NULL,
    name_pinyin       TEXT NOT NULL,
    name_initials     TEXT NOT NULL,
    gender            TEXT NOT NULL,
    birth_date        TEXT NOT NULL,
    ethnicity         TEXT,
    education         TEXT,
    phone             TEXT,
    marital_status    TEXT,
    hukou_area        TEXT NOT NULL,
    hukou_path        TEXT NOT NULL,
    hukou_address     TEXT NOT NULL,
    hukou_type        TEXT,
    residence_area    TEXT NOT NULL,
    residence_address TEXT NOT NULL,
    managing_unit     TEXT NOT NULL REFERENCES org_units (code),
    managing_path     TEXT NOT NULL,
    direction         TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    moved_on          TEXT NOT NULL,
    move_reason       TEXT,
    registered_on     TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'returned', 'moved_on', 'removed')),
    ended_on          TEXT,
    end_note          TEXT,
    version           INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX persons_id_number ON persons (id_number);
CREATE INDEX persons_managing ON persons (managing_path);
CREATE INDEX persons_hukou ON persons (hukou_path);
CREATE INDEX persons_name ON persons (name);

CREATE TABLE person_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id  INTEGER NOT NULL REFERENCES persons (id),
    at         TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action     TEXT NOT NULL,
    changes    TEXT NOT NULL,
    version    INTEGER NOT NULL
);
CREATE INDEX person_history_person ON person_history (person_id, id);

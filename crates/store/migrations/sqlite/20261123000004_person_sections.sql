-- The repeated sections of a personal record, and the key-person classification.
ALTER TABLE persons ADD COLUMN key_person BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE persons ADD COLUMN key_reasons TEXT NOT NULL DEFAULT '';
CREATE INDEX persons_key ON persons (key_person, managing_path);

CREATE TABLE person_marriages (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id        INTEGER NOT NULL REFERENCES persons (id),
    married_on       TEXT,
    spouse_name      TEXT,
    spouse_id_number TEXT,
    ended_on         TEXT,
    created_at       TEXT NOT NULL,
    created_by       TEXT NOT NULL
);
CREATE TABLE person_children (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id   INTEGER NOT NULL REFERENCES persons (id),
    name        TEXT,
    gender      TEXT,
    birth_date  TEXT,
    birth_order INTEGER,
    id_number   TEXT,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE TABLE person_pregnancies (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id   INTEGER NOT NULL REFERENCES persons (id),
    detected_on TEXT,
    expected_on TEXT,
    outcome     TEXT,
    ended_on    TEXT,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE TABLE person_checks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id  INTEGER NOT NULL REFERENCES persons (id),
    kind       TEXT,
    done_on    TEXT,
    result     TEXT,
    place      TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE person_services (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id  INTEGER NOT NULL REFERENCES persons (id),
    kind       TEXT,
    method     TEXT,
    started_on TEXT,
    note       TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE person_certificates (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id   INTEGER NOT NULL REFERENCES persons (id),
    number      TEXT,
    issuer      TEXT,
    issued_on   TEXT,
    valid_until TEXT,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX person_marriages_person ON person_marriages (person_id);
CREATE INDEX person_children_person ON person_children (person_id);
CREATE INDEX person_pregnancies_person ON person_pregnancies (person_id);
CREATE INDEX person_checks_person ON person_checks (person_id);
CREATE INDEX person_services_person ON person_services (person_id);
CREATE INDEX person_certificates_person ON person_certificates (person_id);

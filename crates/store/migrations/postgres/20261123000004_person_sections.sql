-- The repeated sections of a personal record, and the key-person classification.
ALTER TABLE persons ADD COLUMN key_person BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE persons ADD COLUMN key_reasons TEXT NOT NULL DEFAULT '';
CREATE INDEX persons_key ON persons (key_person, managing_path);

CREATE TABLE person_marriages (
    id               BIGSERIAL PRIMARY KEY,
    person_id        BIGINT NOT NULL REFERENCES persons (id),
    married_on       DATE,
    spouse_name      TEXT,
    spouse_id_number TEXT,
    ended_on         DATE,
    created_at       TIMESTAMPTZ NOT NULL,
    created_by       TEXT NOT NULL
);
CREATE TABLE person_children (
    id          BIGSERIAL PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES persons (id),
    name        TEXT,
    gender      TEXT,
    birth_date  DATE,
    birth_order BIGINT,
    id_number   TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE TABLE person_pregnancies (
    id          BIGSERIAL PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES persons (id),
    detected_on DATE,
    expected_on DATE,
    outcome     TEXT,
    ended_on    DATE,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE TABLE person_checks (
    id         BIGSERIAL PRIMARY KEY,
    person_id  BIGINT NOT NULL REFERENCES persons (id),
    kind       TEXT,
    done_on    DATE,
    result     TEXT,
    place      TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE person_services (
    id         BIGSERIAL PRIMARY KEY,
    person_id  BIGINT NOT NULL REFERENCES persons (id),
    kind       TEXT,
    method     TEXT,
    started_on DATE,
    note       TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE person_certificates (
    id          BIGSERIAL PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES persons (id),
    number      TEXT,
    issuer      TEXT,
    issued_on   DATE,
    valid_until DATE,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX person_marriages_person ON person_marriages (person_id);
CREATE INDEX person_children_person ON person_children (person_id);
CREATE INDEX person_pregnancies_person ON person_pregnancies (person_id);
CREATE INDEX person_checks_person ON person_checks (person_id);
CREATE INDEX person_services_person ON person_services (person_id);
CREATE INDEX person_certificates_person ON person_certificates (person_id);

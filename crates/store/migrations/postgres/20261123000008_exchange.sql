-- Information exchange (信息交换): the working-day calendar, items and their timeline, the
-- notification (SMS) outbox, and the runs of scheduled jobs. Nothing here is ever deleted: every
-- state change is a timeline row with its time and actor.
CREATE TABLE calendar_days (
    day        DATE PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('off', 'workday')),
    holiday    TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL
);

-- The years whose State Council notice the calendar holds (shipped or declared by the system
-- administrator); other years fall back to Monday–Friday.
CREATE TABLE calendar_years (
    year       INTEGER PRIMARY KEY NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE exchange_items (
    id               BIGSERIAL PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('verification', 'notification', 'service_info')),
    categories       TEXT NOT NULL,
    reason           TEXT,
    urgency          TEXT NOT NULL CHECK (urgency IN ('urgent', 'normal')),
    status           TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'received', 'answered', 'withdrawn')),
    person_id        BIGINT NOT NULL REFERENCES persons (id),
    person_name      TEXT NOT NULL,
    person_id_number TEXT,
    origin_area      TEXT NOT NULL,
    origin_address   TEXT NOT NULL,
    from_unit        TEXT NOT NULL,
    from_path        TEXT COLLATE "C" NOT NULL,
    to_unit          TEXT NOT NULL,
    to_path          TEXT COLLATE "C" NOT NULL,
    remarks          TEXT NOT NULL DEFAULT '',
    source           TEXT NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'suggested')),
    event_on         DATE,
    send_due_on      DATE,
    answer_required  BOOLEAN NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    created_by       TEXT NOT NULL,
    submitted_at     TIMESTAMPTZ,
    cycle            TEXT,
    receipt_due_on   DATE,
    due_on           DATE,
    calendar_assumed BOOLEAN NOT NULL DEFAULT FALSE,
    received_at      TIMESTAMPTZ,
    answered_at      TIMESTAMPTZ,
    found            BOOLEAN,
    answer_remarks   TEXT,
    search_steps     TEXT,
    facts            TEXT,
    answered_on_time BOOLEAN,
    overdue_at       TIMESTAMPTZ,
    send_overdue_at  TIMESTAMPTZ
);
CREATE INDEX exchange_items_to ON exchange_items (to_unit, status, due_on);
CREATE INDEX exchange_items_from ON exchange_items (from_unit, status);
CREATE INDEX exchange_items_to_path ON exchange_items (to_path);
CREATE INDEX exchange_items_from_path ON exchange_items (from_path);
CREATE INDEX exchange_items_person ON exchange_items (person_id);
CREATE INDEX exchange_items_cycle ON exchange_items (cycle);

CREATE TABLE exchange_events (
    id         BIGSERIAL PRIMARY KEY,
    item_id    BIGINT NOT NULL REFERENCES exchange_items (id),
    at         TIMESTAMPTZ NOT NULL,
    actor_name TEXT NOT NULL,
    actor_unit TEXT NOT NULL,
    event      TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX exchange_events_item ON exchange_events (item_id, id);

CREATE TABLE notifications (
    id              BIGSERIAL PRIMARY KEY,
    item_id         BIGINT REFERENCES exchange_items (id),
    channel         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    recipient_name  TEXT NOT NULL,
    unit            TEXT NOT NULL,
    message         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);
CREATE INDEX notifications_due ON notifications (state, next_attempt_at);
CREATE INDEX notifications_item ON notifications (item_id);

CREATE TABLE job_runs (
    id      BIGSERIAL PRIMARY KEY,
    job     TEXT NOT NULL,
    at      TIMESTAMPTZ NOT NULL,
    outcome TEXT NOT NULL,
    marked  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX job_runs_job ON job_runs (job, id);

-- Supervision orders (督办) and reminders (催办): a higher level opens an order on a unit below it,
-- the unit answers, the issuing side closes or reopens it. Nothing is deleted: every state change
-- is a row of supervision_order_events. The SMS an order sends goes through the notifications
-- outbox, linked by order_id (item_id stays NULL for those).
CREATE TABLE supervision_orders (
    id           BIGSERIAL PRIMARY KEY,
    issuer_unit  TEXT NOT NULL,
    issuer_path  TEXT COLLATE "C" NOT NULL,
    target_unit  TEXT NOT NULL,
    target_path  TEXT COLLATE "C" NOT NULL,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('item', 'finding', 'free', 'reminder')),
    subject_ref  TEXT NOT NULL DEFAULT '',
    cycle        TEXT,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    due_on       DATE NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'answered', 'closed')),
    answer       TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   TEXT NOT NULL,
    answered_at  TIMESTAMPTZ,
    answered_by  TEXT,
    closed_at    TIMESTAMPTZ,
    closed_by    TEXT
);
CREATE INDEX supervision_orders_target ON supervision_orders (target_path, status);
CREATE INDEX supervision_orders_issuer ON supervision_orders (issuer_path, status);
CREATE INDEX supervision_orders_due ON supervision_orders (status, due_on);

CREATE TABLE supervision_order_events (
    id         BIGSERIAL PRIMARY KEY,
    order_id   BIGINT NOT NULL REFERENCES supervision_orders (id),
    at         TIMESTAMPTZ NOT NULL,
    actor_name TEXT NOT NULL,
    actor_unit TEXT NOT NULL,
    event      TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX supervision_order_events_order ON supervision_order_events (order_id, id);

ALTER TABLE notifications ADD COLUMN order_id BIGINT REFERENCES supervision_orders (id);
CREATE INDEX notifications_order ON notifications (order_id);

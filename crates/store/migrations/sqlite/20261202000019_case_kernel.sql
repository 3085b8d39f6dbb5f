-- The case kernel (issue 11): one timeline and one notification link for every kind of case, so
-- that a new kind (a feed row to review, a certificate application) adds no table of its own for
-- either. The rows of the two timelines move into case_events, each case's rows in their order.
CREATE TABLE case_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    case_kind  TEXT NOT NULL,
    case_id    INTEGER NOT NULL,
    at         TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    actor_unit TEXT NOT NULL,
    event      TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT ''
);
INSERT INTO case_events (case_kind, case_id, at, actor_name, actor_unit, event, note)
    SELECT 'exchange', item_id, at, actor_name, actor_unit, event, note FROM exchange_events ORDER BY id;
INSERT INTO case_events (case_kind, case_id, at, actor_name, actor_unit, event, note)
    SELECT 'order', order_id, at, actor_name, actor_unit, event, note FROM supervision_order_events ORDER BY id;
CREATE INDEX case_events_case ON case_events (case_kind, case_id, id);
CREATE INDEX case_events_event ON case_events (case_kind, event, case_id);
DROP TABLE exchange_events;
DROP TABLE supervision_order_events;

-- SQLite cannot drop a column that holds a foreign key: the outbox is rebuilt with its case.
CREATE TABLE notifications_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    case_kind       TEXT,
    case_id         INTEGER,
    channel         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    recipient_name  TEXT NOT NULL,
    unit            TEXT NOT NULL,
    message         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
INSERT INTO notifications_new (id, case_kind, case_id, channel, recipient, recipient_name, unit, message, state,
    attempts, next_attempt_at, last_error, created_at, sent_at)
    SELECT id, CASE WHEN item_id IS NOT NULL THEN 'exchange' WHEN order_id IS NOT NULL THEN 'order' END,
        COALESCE(item_id, order_id), channel, recipient, recipient_name, unit, message, state, attempts,
        next_attempt_at, last_error, created_at, sent_at
    FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_due ON notifications (state, next_attempt_at);
CREATE INDEX notifications_case ON notifications (case_kind, case_id);

-- The case kernel (issue 11): one timeline and one notification link for every kind of case, so
-- that a new kind (a feed row to review, a certificate application) adds no table of its own for
-- either. The rows of the two timelines move into case_events, each case's rows in their order.
CREATE TABLE case_events (
    id         BIGSERIAL PRIMARY KEY,
    case_kind  TEXT NOT NULL,
    case_id    BIGINT NOT NULL,
    at         TIMESTAMPTZ NOT NULL,
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

ALTER TABLE notifications ADD COLUMN case_kind TEXT;
ALTER TABLE notifications ADD COLUMN case_id BIGINT;
UPDATE notifications SET case_kind = 'exchange', case_id = item_id WHERE item_id IS NOT NULL;
UPDATE notifications SET case_kind = 'order', case_id = order_id WHERE order_id IS NOT NULL;
ALTER TABLE notifications DROP COLUMN item_id;
ALTER TABLE notifications DROP COLUMN order_id;
CREATE INDEX notifications_case ON notifications (case_kind, case_id);

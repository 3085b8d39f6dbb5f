-- Active records per managing unit, moved by triggers in the writing transaction (issue 12): the
-- supervision page's quality score divides the findings by the records of each unit below, and
-- counting them was a pass over the subtree's records on every view.
CREATE TABLE unit_record_counts (
    managing_path TEXT PRIMARY KEY,
    active        INTEGER NOT NULL
);

CREATE TRIGGER persons_counts_insert AFTER INSERT ON persons WHEN NEW.status = 'active'
BEGIN
    INSERT INTO unit_record_counts (managing_path, active) VALUES (NEW.managing_path, 1)
        ON CONFLICT (managing_path) DO UPDATE SET active = active + 1;
END;

CREATE TRIGGER persons_counts_update AFTER UPDATE OF status, managing_path ON persons
    WHEN (OLD.status = 'active') <> (NEW.status = 'active') OR OLD.managing_path <> NEW.managing_path
BEGIN
    UPDATE unit_record_counts SET active = active - 1
        WHERE OLD.status = 'active' AND managing_path = OLD.managing_path;
    INSERT INTO unit_record_counts (managing_path, active) SELECT NEW.managing_path, 1 WHERE NEW.status = 'active'
        ON CONFLICT (managing_path) DO UPDATE SET active = active + 1;
END;

CREATE TRIGGER persons_counts_delete AFTER DELETE ON persons WHEN OLD.status = 'active'
BEGIN
    UPDATE unit_record_counts SET active = active - 1 WHERE managing_path = OLD.managing_path;
END;

INSERT INTO unit_record_counts (managing_path, active)
    SELECT managing_path, COUNT(*) FROM persons WHERE status = 'active' GROUP BY managing_path;

-- Active records per managing unit, moved by triggers in the writing transaction (issue 12): the
-- supervision page's quality score divides the findings by the records of each unit below, and
-- counting them was a pass over the subtree's records on every view.
CREATE TABLE unit_record_counts (
    managing_path TEXT PRIMARY KEY,
    active        BIGINT NOT NULL
);

-- Per statement, from the transition tables: a bulk load moves each unit's count once, and an
-- update that changes neither state nor unit takes no lock on a count. Each statement moves its
-- counts with one upsert in path order, so that two transactions moving people between the same
-- units lock the counts in the same order (never a deadlock).
CREATE FUNCTION unit_record_counts_move(moves TEXT[], signs INTEGER[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO unit_record_counts (managing_path, active)
        SELECT m.path, SUM(m.sign) FROM unnest(moves, signs) AS m (path, sign)
        GROUP BY m.path HAVING SUM(m.sign) <> 0 ORDER BY m.path
        ON CONFLICT (managing_path) DO UPDATE SET active = unit_record_counts.active + excluded.active;
$$;

CREATE FUNCTION persons_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM unit_record_counts_move(
        ARRAY(SELECT managing_path FROM new_rows WHERE status = 'active'),
        ARRAY(SELECT 1 FROM new_rows WHERE status = 'active'));
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_counts_insert AFTER INSERT ON persons REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION persons_counts_added();

CREATE FUNCTION persons_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    paths TEXT[];
    signs INTEGER[];
BEGIN
    SELECT array_agg(m.path), array_agg(m.sign) INTO paths, signs FROM (
        SELECT o.managing_path AS path, -1 AS sign FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.status = 'active' AND (n.status <> 'active' OR n.managing_path <> o.managing_path)
        UNION ALL
        SELECT n.managing_path, 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE n.status = 'active' AND (o.status <> 'active' OR n.managing_path <> o.managing_path)) m;
    IF paths IS NOT NULL THEN
        PERFORM unit_record_counts_move(paths, signs);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_counts_update AFTER UPDATE ON persons REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION persons_counts_changed();

CREATE FUNCTION persons_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM unit_record_counts_move(
        ARRAY(SELECT managing_path FROM old_rows WHERE status = 'active'),
        ARRAY(SELECT -1 FROM old_rows WHERE status = 'active'));
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_counts_delete AFTER DELETE ON persons REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION persons_counts_removed();

INSERT INTO unit_record_counts (managing_path, active)
    SELECT managing_path, COUNT(*) FROM persons WHERE status = 'active' GROUP BY managing_path;

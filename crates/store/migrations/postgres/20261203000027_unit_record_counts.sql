-- Active records per managing unit, moved by triggers in the writing transaction (issue 12): the
-- supervision page's quality score divides the findings by the records of each unit below, and
-- counting them was a pass over the subtree's records on every view.
CREATE TABLE unit_record_counts (
    managing_path TEXT PRIMARY KEY,
    active        BIGINT NOT NULL
);

-- Per statement, from the transition tables: a bulk load moves each unit's count once, and an
-- update that changes neither state nor unit takes no lock on a count.
CREATE FUNCTION unit_record_counts_add(paths TEXT[], n INTEGER) RETURNS void LANGUAGE sql AS $$
    INSERT INTO unit_record_counts (managing_path, active)
        SELECT p, n * COUNT(*) FROM unnest(paths) AS p GROUP BY p
        ON CONFLICT (managing_path) DO UPDATE SET active = unit_record_counts.active + excluded.active;
$$;

CREATE FUNCTION persons_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM unit_record_counts_add(ARRAY(SELECT managing_path FROM new_rows WHERE status = 'active'), 1);
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_counts_insert AFTER INSERT ON persons REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION persons_counts_added();

CREATE FUNCTION persons_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM unit_record_counts_add(ARRAY(
        SELECT o.managing_path FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE o.status = 'active' AND (n.status <> 'active' OR n.managing_path <> o.managing_path)), -1);
    PERFORM unit_record_counts_add(ARRAY(
        SELECT n.managing_path FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE n.status = 'active' AND (o.status <> 'active' OR n.managing_path <> o.managing_path)), 1);
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_counts_update AFTER UPDATE ON persons REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION persons_counts_changed();

CREATE FUNCTION persons_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM unit_record_counts_add(ARRAY(SELECT managing_path FROM old_rows WHERE status = 'active'), -1);
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_counts_delete AFTER DELETE ON persons REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION persons_counts_removed();

INSERT INTO unit_record_counts (managing_path, active)
    SELECT managing_path, COUNT(*) FROM persons WHERE status = 'active' GROUP BY managing_path;

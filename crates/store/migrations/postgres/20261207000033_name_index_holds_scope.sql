-- A name search's other matches (decision 0029): on PostgreSQL each match found in the name
-- index was looked up in the records for its unit, state and name before the page could be
-- sorted — four pages read per match, most of a search's time when a full name is held inside
-- thousands of others. The index's rows now carry the three, so such a search reads the index
-- alone. The store writes them with every document; a trigger keeps them with the record when
-- a record changes name, unit or state, whichever write does it.
ALTER TABLE person_search
    ADD COLUMN name TEXT COLLATE "C",
    ADD COLUMN managing_path TEXT COLLATE "C",
    ADD COLUMN status TEXT;

UPDATE person_search s SET name = p.name, managing_path = p.managing_path, status = p.status
FROM persons p WHERE p.id = s.person_id;

-- A write that leaves one out fails loudly instead of hiding a record from the search.
ALTER TABLE person_search
    ALTER COLUMN name SET NOT NULL,
    ALTER COLUMN managing_path SET NOT NULL,
    ALTER COLUMN status SET NOT NULL;

-- Per statement, from the transition tables, so that a change to many records is one update.
CREATE FUNCTION person_search_follows_persons() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE person_search s SET name = n.name, managing_path = n.managing_path, status = n.status
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE s.person_id = n.id
      AND (o.name <> n.name OR o.managing_path <> n.managing_path OR o.status <> n.status);
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_search_follow AFTER UPDATE ON persons REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION person_search_follows_persons();

-- A name search's matches (decision 0029): on PostgreSQL each match found in the name index was
-- looked up in the records for its unit, state and sort key before the page could be chosen —
-- four pages read per match, most of a search's time when a name has thousands of matches. The
-- index's rows now carry them, so such a search reads the index alone. The store writes them
-- with every document; a trigger keeps them with the record whichever write changes it.
ALTER TABLE person_search
    ADD COLUMN name TEXT COLLATE "C",
    ADD COLUMN managing_path TEXT COLLATE "C",
    ADD COLUMN status TEXT,
    ADD COLUMN moved_on DATE,
    ADD COLUMN birth_date DATE;

UPDATE person_search s SET name = p.name, managing_path = p.managing_path, status = p.status,
    moved_on = p.moved_on, birth_date = p.birth_date
FROM persons p WHERE p.id = s.person_id;

-- A write that leaves one out fails loudly instead of hiding a record from the search.
ALTER TABLE person_search
    ALTER COLUMN name SET NOT NULL,
    ALTER COLUMN managing_path SET NOT NULL,
    ALTER COLUMN status SET NOT NULL,
    ALTER COLUMN moved_on SET NOT NULL,
    ALTER COLUMN birth_date SET NOT NULL;

-- Per statement, from the transition tables, so that a change to many records is one update.
CREATE FUNCTION person_search_follows_persons() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE person_search s SET name = n.name, managing_path = n.managing_path, status = n.status,
        moved_on = n.moved_on, birth_date = n.birth_date
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE s.person_id = n.id
      AND (o.name <> n.name OR o.managing_path <> n.managing_path OR o.status <> n.status
           OR o.moved_on <> n.moved_on OR o.birth_date <> n.birth_date);
    RETURN NULL;
END
$$;
CREATE TRIGGER persons_search_follow AFTER UPDATE ON persons REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION person_search_follows_persons();

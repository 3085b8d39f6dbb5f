-- The name index (issue 12): one token per character of a name, then its pinyin keys, so that a
-- search for any part of a name reads the index instead of every record of the subtree. The
-- store keeps it with every write of a record; here it is filled once for the records there are.
CREATE VIRTUAL TABLE person_search USING fts5(tokens, tokenize = 'unicode61 remove_diacritics 0');

WITH RECURSIVE split(id, rest, out) AS (
    SELECT id, name, '' FROM persons
    UNION ALL
    SELECT id, substr(rest, 2),
           CASE WHEN substr(rest, 1, 1) IN (' ', char(9), char(10), char(13), char(12288), '·') THEN out
                ELSE out || ' ' || substr(rest, 1, 1) END
    FROM split WHERE rest <> ''
)
INSERT INTO person_search (rowid, tokens)
SELECT s.id, trim(trim(s.out) || ' ' || trim(p.name_pinyin) || ' ' || trim(p.name_initials))
FROM split s JOIN persons p ON p.id = s.id
WHERE s.rest = '';

-- The name index (issue 12): one token per character of a name, then its pinyin keys, so that a
-- search for any part of a name reads the index instead of every record of the subtree. The
-- store keeps it with every write of a record; here it is filled once for the records there are.
-- Documents are tsvector literals (quoted tokens with positions): no text-search parser, and so
-- no locale, decides what a token is.
CREATE TABLE person_search (
    person_id BIGINT PRIMARY KEY REFERENCES persons (id),
    tokens    tsvector NOT NULL
);

INSERT INTO person_search (person_id, tokens)
SELECT p.id, CAST(COALESCE((
    SELECT string_agg('''' || replace(replace(t.tok, '\', '\\'), '''', '''''') || ''':' || t.ord, ' ' ORDER BY t.ord)
    FROM unnest(
        ARRAY(SELECT lower(x.c) FROM regexp_split_to_table(p.name, '') WITH ORDINALITY AS x(c, n)
              WHERE x.c !~ '^\s$' AND x.c <> '·' ORDER BY x.n)
        || regexp_split_to_array(btrim(p.name_pinyin || ' ' || p.name_initials), '\s+')
    ) WITH ORDINALITY AS t(tok, ord)
    WHERE t.tok <> ''
), '') AS tsvector)
FROM persons p;

CREATE INDEX person_search_tokens ON person_search USING GIN (tokens);

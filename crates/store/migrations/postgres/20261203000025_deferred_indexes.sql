-- A large bulk load into a small table drops the records' non-unique indexes and builds them
-- again at its end (issue 12: one sorted pass per index instead of a random insert per row and
-- index). Each dropped index is recorded here first, in the same transaction, so that a load
-- cut short leaves its indexes to be built again at the next start, never lost.
CREATE TABLE deferred_indexes (
    name       TEXT PRIMARY KEY,
    definition TEXT NOT NULL
);

-- PostgreSQL's migration 28 makes a writer queued twice hold the queue row until it commits;
-- SQLite runs one writer at a time, so its queue needs no change. Kept for the numbering.
SELECT 1;

-- Names sort in code-point order, as on SQLite, whatever the database's locale (decision 0028):
-- a name search in name order reads the names that start with the text as one range of the
-- name order (`name >= '王芳' AND name < '王芴'`), which only a byte-wise order guarantees. The
-- table is not rewritten; the indexes on the name are built again.
ALTER TABLE persons ALTER COLUMN name TYPE TEXT COLLATE "C";

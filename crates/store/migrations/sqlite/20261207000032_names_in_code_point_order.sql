-- SQLite already compares names by their code points (the BINARY collation); PostgreSQL's
-- migration of the same number makes it do the same (decision 0028). The name index's head
-- tokens are written by the store at the next start (`name_index_state`, form 3).
SELECT 1;

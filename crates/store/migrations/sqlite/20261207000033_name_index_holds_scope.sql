-- SQLite's name index gives the matches' ids, and a record is read by its id at little cost;
-- PostgreSQL's migration of the same number lets a name search there read the index alone
-- (decision 0029).
SELECT 1;

-- Encryption at rest (decision 0014). ID numbers are sealed, so their lookups go through keyed
-- blind indexes of the whole number and of its last four characters; the one-active-record rule
-- moves onto the index. data_keys records which keys the values are sealed under (a check value
-- per key, never the key); seal_pass holds the progress of an unfinished sealing pass, one row
-- per table, so that a pass killed half-way resumes where it stopped. TOTP secrets are sealed too.
ALTER TABLE persons ADD COLUMN id_index TEXT;
ALTER TABLE persons ADD COLUMN id_tail_index TEXT;
DROP INDEX persons_active_id_unit;
DROP INDEX persons_id_number;
CREATE INDEX persons_id_index ON persons (id_index);
CREATE INDEX persons_id_tail_index ON persons (id_tail_index, managing_path);
CREATE UNIQUE INDEX persons_active_id_index_unit ON persons (id_index, managing_unit)
    WHERE status = 'active' AND id_index IS NOT NULL;

CREATE TABLE data_keys (
    id          TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    added_at    TIMESTAMPTZ NOT NULL,
    retired_at  TIMESTAMPTZ
);

CREATE TABLE seal_pass (
    table_name TEXT PRIMARY KEY,
    last_id    BIGINT NOT NULL
);
-- Values written before this migration are in clear: the first start seals them.
INSERT INTO seal_pass (table_name, last_id) SELECT 'persons', 0 WHERE EXISTS (SELECT 1 FROM persons);
INSERT INTO seal_pass (table_name, last_id) SELECT 'person_history', 0 WHERE EXISTS (SELECT 1 FROM person_history);
INSERT INTO seal_pass (table_name, last_id) SELECT 'person_marriages', 0 WHERE EXISTS (SELECT 1 FROM person_marriages);
INSERT INTO seal_pass (table_name, last_id) SELECT 'person_children', 0 WHERE EXISTS (SELECT 1 FROM person_children);
INSERT INTO seal_pass (table_name, last_id) SELECT 'person_checks', 0 WHERE EXISTS (SELECT 1 FROM person_checks);
INSERT INTO seal_pass (table_name, last_id) SELECT 'person_services', 0 WHERE EXISTS (SELECT 1 FROM person_services);
INSERT INTO seal_pass (table_name, last_id) SELECT 'exchange_items', 0 WHERE EXISTS (SELECT 1 FROM exchange_items);
INSERT INTO seal_pass (table_name, last_id) SELECT 'account_factors', 0 WHERE EXISTS (SELECT 1 FROM account_factors);

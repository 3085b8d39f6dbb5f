-- The name index gains a token for each two neighbouring ideographs of a name (decision 0026):
-- a search of two characters or more reads the names holding the pair, not every name holding
-- either character. The documents are written by the store in Rust (`domain::pinyin_index`),
-- so the records already there are indexed again at the next start, in batches, from where
-- `after_id` says the last batch ended; `version` 2 when done.
CREATE TABLE name_index_state (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL,
    after_id BIGINT NOT NULL
);
INSERT INTO name_index_state (id, version, after_id) VALUES (1, 1, 0);

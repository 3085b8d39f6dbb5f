-- Code tables as maintained by the system administrator. The shipped codes are seeded at
-- start; `shipped` codes can be renamed and deactivated but never deleted.
CREATE TABLE code_items (
    table_name TEXT NOT NULL,
    code       TEXT NOT NULL,
    label_zh   TEXT NOT NULL,
    label_en   TEXT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    shipped    BOOLEAN NOT NULL DEFAULT FALSE,
    position   INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (table_name, code)
);

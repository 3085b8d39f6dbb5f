-- The organisation hierarchy and a small key-value table of installation settings.
CREATE TABLE org_units (
    code          TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    level         TEXT NOT NULL CHECK (level IN ('province', 'city', 'county', 'township', 'village', 'unit')),
    parent_code   TEXT REFERENCES org_units (code),
    path          TEXT NOT NULL,
    province_code TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX org_units_path ON org_units (path);
CREATE INDEX org_units_parent ON org_units (parent_code, code);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

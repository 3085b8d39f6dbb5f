-- Breaking the glass: an account reads one record outside its scope, for a stated reason, for
-- at most 24 hours. `target` is the record (`person:ID`).
CREATE TABLE glass_grants (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    actor_name  TEXT NOT NULL,
    actor_unit  TEXT NOT NULL,
    target      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    granted_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX glass_grants_target ON glass_grants (target, account_id);

-- Breaking the glass: an account reads one record outside its scope, for a stated reason, for
-- at most 24 hours. `target` is the record (`person:ID`).
CREATE TABLE glass_grants (
    id          BIGSERIAL PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts (id),
    actor_name  TEXT NOT NULL,
    actor_unit  TEXT NOT NULL,
    target      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    granted_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX glass_grants_target ON glass_grants (target, account_id);

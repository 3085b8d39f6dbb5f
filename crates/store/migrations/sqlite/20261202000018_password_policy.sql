-- The password policy (issue 10): when each password was set, for its expiry, and the hashes of
-- the passwords an account used before, so that a recent one is not taken again.
ALTER TABLE accounts ADD COLUMN password_changed_at TEXT;
UPDATE accounts SET password_changed_at = updated_at;

CREATE TABLE password_history (
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    hash        TEXT NOT NULL,
    replaced_at TEXT NOT NULL
);
CREATE INDEX password_history_account ON password_history (account_id, replaced_at);

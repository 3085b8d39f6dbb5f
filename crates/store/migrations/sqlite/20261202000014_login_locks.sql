-- Failed sign-ins are counted and locked per account *and* source address: guesses from one
-- address lock that address out of the account, not the account's owner signing in from
-- elsewhere. `accounts.locked_until` stays as what the administrators' pages show.
CREATE TABLE login_locks (
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    address       TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT,
    PRIMARY KEY (account_id, address)
);

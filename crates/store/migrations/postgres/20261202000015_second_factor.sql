-- A second factor (TOTP, RFC 6238) per account: the secret (base32), when it was confirmed with a
-- first code (unconfirmed: enrolment under way), the last time step used (a code is accepted
-- once), and the SHA-256 hashes of the unused recovery codes, comma-separated.
CREATE TABLE account_factors (
    account_id   BIGINT PRIMARY KEY NOT NULL REFERENCES accounts (id),
    secret       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    confirmed_at TIMESTAMPTZ,
    last_step    BIGINT NOT NULL DEFAULT 0,
    recovery     TEXT NOT NULL DEFAULT ''
);

-- A password checked, its second factor still to come: for five minutes, from one address.
CREATE TABLE pending_logins (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    address    TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

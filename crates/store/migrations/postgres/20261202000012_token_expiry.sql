-- API tokens expire (GB/T 22239 third level: credentials have a limited life). Tokens made
-- before this migration have none stored and are taken to expire a year after their creation.
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;

-- The audit log is append-only: the database itself refuses to change or remove an entry.
-- Only `qipan audit archive` removes entries, and only while it holds `archiving` set inside its
-- own transaction (the archive is written to a file and verified first).
ALTER TABLE audit_head ADD COLUMN archiving BOOLEAN NOT NULL DEFAULT FALSE;

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND (SELECT archiving FROM audit_head WHERE id = 1) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: % refused (archive with qipan audit archive)', TG_OP;
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

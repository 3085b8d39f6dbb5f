-- The audit log is append-only: the database itself refuses to change or remove an entry.
-- Only `qipan audit archive` removes entries, and only while it holds `archiving` set inside its
-- own transaction (the archive is written to a file and verified first).
ALTER TABLE audit_head ADD COLUMN archiving INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only: UPDATE refused');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN (SELECT archiving FROM audit_head WHERE id = 1) = 0
BEGIN
    SELECT RAISE(ABORT, 'audit entries are append-only: DELETE refused (archive with qipan audit archive)');
END;

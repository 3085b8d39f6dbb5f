-- Monthly report snapshots (报表冻结): a unit's figures of one table for one month, frozen the
-- first time the report is read after the unit's reporting deadline. One row per unit, table and
-- month: the unique key makes two readers at the same moment freeze it once.
CREATE TABLE report_snapshots (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    province_code TEXT NOT NULL,
    unit          TEXT NOT NULL REFERENCES org_units (code),
    unit_path     TEXT NOT NULL,
    report        TEXT NOT NULL,
    month         TEXT NOT NULL,
    period_from   TEXT NOT NULL,
    period_to     TEXT NOT NULL,
    deadline      TEXT NOT NULL,
    cells         TEXT NOT NULL,
    frozen_at     TEXT NOT NULL,
    frozen_by     TEXT NOT NULL,
    UNIQUE (unit, report, month)
);
CREATE INDEX report_snapshots_path ON report_snapshots (month, unit_path);

-- The reports read the sections by date within a period.
CREATE INDEX person_services_started ON person_services (started_on);
CREATE INDEX person_checks_done ON person_checks (done_on);
CREATE INDEX person_children_born ON person_children (birth_date);

-- The reports group a subtree's records by these columns: an index that holds them all lets
-- SQLite (and PostgreSQL, once vacuumed) read the index instead of the wide rows.
CREATE INDEX persons_report ON persons (managing_path, direction, moved_on, ended_on, status, gender, birth_date,
    marital_status, move_reason, managing_unit, hukou_area, residence_area);

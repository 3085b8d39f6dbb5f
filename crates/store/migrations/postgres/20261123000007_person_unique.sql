-- One active record per ID number per managing unit: two browser tabs, or two clerks, cannot
-- register the same person twice in one unit (the service checks first; this makes it certain).
CREATE UNIQUE INDEX persons_active_id_unit ON persons (id_number, managing_unit)
    WHERE status = 'active' AND id_number IS NOT NULL;

-- The person list in the order a clerk sorts it (issue 12). When a large share of the records
-- match (a county's list, a big township), the list walks one of these indexes in its order and
-- stops after a page, instead of sorting every record of the subtree; the scope and status are
-- in the index, so a record out of scope is passed over without reading its row.
CREATE INDEX persons_order_moved ON persons (moved_on, id, managing_path, status);
CREATE INDEX persons_order_name ON persons (name, id, managing_path, status);
CREATE INDEX persons_order_birth ON persons (birth_date, id, managing_path, status);
-- Superseded by persons_order_name.
DROP INDEX persons_name;

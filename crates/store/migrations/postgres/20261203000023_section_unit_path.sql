-- The clerk's day reads an index range of one unit (issue 12): the sections that make work carry
-- the managing path of their person, kept by the store on every write (an entry added, a record
-- moved to another unit) and repaired by the daily job, so that a township's open pregnancies,
-- recent births and certificates running out are an index range of the township.
ALTER TABLE person_pregnancies ADD COLUMN managing_path TEXT NOT NULL DEFAULT '';
ALTER TABLE person_children ADD COLUMN managing_path TEXT NOT NULL DEFAULT '';
ALTER TABLE person_certificates ADD COLUMN managing_path TEXT NOT NULL DEFAULT '';
UPDATE person_pregnancies SET managing_path = (SELECT p.managing_path FROM persons p WHERE p.id = person_pregnancies.person_id);
UPDATE person_children SET managing_path = (SELECT p.managing_path FROM persons p WHERE p.id = person_children.person_id);
UPDATE person_certificates SET managing_path = (SELECT p.managing_path FROM persons p WHERE p.id = person_certificates.person_id);
CREATE INDEX person_pregnancies_open_unit ON person_pregnancies (managing_path, detected_on) WHERE outcome IS NULL;
CREATE INDEX person_pregnancies_birth_unit ON person_pregnancies (managing_path, ended_on) WHERE outcome = 'birth';
CREATE INDEX person_children_unit ON person_children (managing_path, birth_date);
CREATE INDEX person_certificates_unit ON person_certificates (managing_path, valid_until);
-- Superseded by the unit indexes above (migration 22's province-wide ranges by date).
DROP INDEX person_pregnancies_birth;
DROP INDEX person_certificates_valid;

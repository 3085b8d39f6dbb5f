-- The clerk's day starts from its facts, not from the records of the subtree (issue 12): each
-- kind of work reads its own rows through an index on their date, then each person by key.
CREATE INDEX person_pregnancies_birth ON person_pregnancies (outcome, ended_on);
CREATE INDEX person_certificates_valid ON person_certificates (valid_until);
CREATE INDEX person_certificates_latest ON person_certificates (person_id, valid_until);
CREATE INDEX persons_registered_on ON persons (registered_on, managing_path);

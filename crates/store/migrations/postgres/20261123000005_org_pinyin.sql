-- Pinyin keys of org unit names, so that an area field finds 滨城区 by `bincheng` or `bc`.
-- Filled when divisions are imported, and for units already on record when Qipan starts.
ALTER TABLE org_units ADD COLUMN name_pinyin TEXT NOT NULL DEFAULT '';
ALTER TABLE org_units ADD COLUMN name_initials TEXT NOT NULL DEFAULT '';

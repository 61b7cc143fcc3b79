-- The school information system's own id (OneRoster's sourcedId) of each imported class,
-- learner and member of staff, so the next import updates the same record instead of
-- making a second one. NULL for records made in ClassKeys and never imported; unique
-- within a school where set (NULLs never clash).
ALTER TABLE class ADD COLUMN source_id TEXT;
ALTER TABLE learner ADD COLUMN source_id TEXT;
ALTER TABLE staff ADD COLUMN source_id TEXT;
CREATE UNIQUE INDEX class_source ON class (school_id, source_id);
CREATE UNIQUE INDEX learner_source ON learner (school_id, source_id);
CREATE UNIQUE INDEX staff_source ON staff (school_id, source_id);

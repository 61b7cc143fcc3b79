-- The learners still without a parent access code, so a whole-school export finds the
-- few it must give one to without reading every learner first.
CREATE INDEX learner_without_parent_code ON learner (school_id) WHERE parent_code_sealed IS NULL;

-- Roster imports: each previewed file with the plan it was previewed as, and once applied,
-- who applied it, when, and what it did. The plan holds the version of every learner it
-- changes, so applying it later leaves out (and reports) whoever changed since.
CREATE TABLE roster_import (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES school (id),
    previewed_by TEXT NOT NULL,
    previewed_at BIGINT NOT NULL,
    format TEXT NOT NULL,
    file_name TEXT NOT NULL,
    -- SHA-256 of the file as uploaded: the same file imported twice is recognisable.
    file_sha256 TEXT NOT NULL,
    -- The plan (JSON): classes and learners to add, changes field by field, deactivations.
    plan TEXT NOT NULL,
    applied_by TEXT,
    applied_at BIGINT,
    -- What applying did (JSON): counts, and the changes left out with why.
    outcome TEXT
);
CREATE INDEX roster_import_school ON roster_import (school_id, previewed_at);

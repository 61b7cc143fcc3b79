-- The desktop replica: what the signed-in member of staff may see, plus the outbox of
-- changes made here that the server has not confirmed yet.
--
-- Ids are UUIDs as hyphenated text, times RFC 3339 text (records, as the server sent them)
-- or Unix milliseconds (outbox scheduling, compared numerically). Tables are STRICT so a
-- wrongly bound value fails loudly instead of being stored as something else.

-- Small facts about the replica: the pull cursor, and who it belongs to.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE class (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    -- identity_key(name): classes are listed in the order the server uses.
    name_key    TEXT NOT NULL,
    year_group  TEXT,
    archived    INTEGER NOT NULL CHECK (archived IN (0, 1)),
    -- The class's teachers as JSON (a short list the UI shows as it is).
    teachers    TEXT NOT NULL,
    version     INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX class_by_name ON class (name_key, id);

CREATE TABLE learner (
    -- An integer row id that never changes for a learner, so the full-text index can point
    -- at it (upserts use ON CONFLICT DO UPDATE, which keeps it; REPLACE would not).
    n           INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    username    TEXT NOT NULL,
    given_name  TEXT NOT NULL,
    family_name TEXT NOT NULL,
    email       TEXT,
    active      INTEGER NOT NULL CHECK (active IN (0, 1)),
    version     INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    -- search_fold of the family and given names: the list order, accent- and case-blind.
    family_key  TEXT NOT NULL,
    given_key   TEXT NOT NULL,
    -- search_fold of given name, family name, username and email: what search matches.
    search_text TEXT NOT NULL
) STRICT;

-- search_text rides along so a search that walks learners in list order (see search.rs)
-- reads only this index, never the table.
CREATE INDEX learner_by_name ON learner (family_key, given_key, id, search_text);

-- Which learner is in which class. Kept as rows (not only inside the learner record) so a
-- class's learners are an index range, and a class leaving the replica takes its enrolments.
-- class_id has no foreign key on purpose: a pull page may carry a learner before a class it
-- names (the class changed later), and a replica must never refuse what the server sends.
CREATE TABLE enrolment (
    learner_id TEXT NOT NULL REFERENCES learner (id) ON DELETE CASCADE,
    class_id   TEXT NOT NULL,
    -- The class's place in the learner record's list, to give the list back as sent.
    position   INTEGER NOT NULL,
    PRIMARY KEY (learner_id, class_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX enrolment_by_class ON enrolment (class_id, learner_id);

CREATE TABLE staff (
    id           TEXT PRIMARY KEY,
    username     TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role         TEXT NOT NULL,
    active       INTEGER NOT NULL CHECK (active IN (0, 1))
) STRICT, WITHOUT ROWID;

-- Substring search over learners. Trigrams answer "%word%" from an index (a LIKE scan of
-- 100,000 rows does not); the text is folded before it gets here, so the tokenizer's own
-- case folding has nothing left to do. External content: the text lives once, in learner.
CREATE VIRTUAL TABLE learner_search USING fts5 (
    search_text,
    content = 'learner',
    content_rowid = 'n',
    tokenize = 'trigram'
);

-- The triggers keep the index exactly in step with learner; an external-content index must
-- be told the old text to forget it, hence 'delete' with the old values.
CREATE TRIGGER learner_search_insert AFTER INSERT ON learner BEGIN
    INSERT INTO learner_search (rowid, search_text) VALUES (new.n, new.search_text);
END;

CREATE TRIGGER learner_search_delete AFTER DELETE ON learner BEGIN
    INSERT INTO learner_search (learner_search, rowid, search_text)
        VALUES ('delete', old.n, old.search_text);
END;

CREATE TRIGGER learner_search_update AFTER UPDATE OF search_text ON learner BEGIN
    INSERT INTO learner_search (learner_search, rowid, search_text)
        VALUES ('delete', old.n, old.search_text);
    INSERT INTO learner_search (rowid, search_text) VALUES (new.n, new.search_text);
END;

-- Changes made on this device, in the order they were made, until the server settles them.
CREATE TABLE outbox (
    -- Replay order: a learner must be created before they are enrolled.
    seq             INTEGER PRIMARY KEY,
    op_id           TEXT NOT NULL UNIQUE,
    base_version    INTEGER,
    -- The classkeys_protocol::sync::Operation as JSON, exactly what is pushed.
    operation       TEXT NOT NULL,
    -- The record the operation changes, to restore it when the server refuses the change.
    target_kind     TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    -- That record as it was here before the optimistic change (JSON), NULL if it was absent.
    before          TEXT,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'conflict', 'rejected')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- Why the last attempt did not reach the server (network, server down).
    last_error      TEXT,
    -- For 'rejected': the server's error body (JSON).
    rejection       TEXT,
    -- For 'conflict': the record as it is on the server now (JSON), shown to the teacher.
    current         TEXT,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX outbox_due ON outbox (state, next_attempt_at, seq);
CREATE INDEX outbox_by_target ON outbox (target_id, seq);

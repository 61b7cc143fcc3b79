-- The roster: schools, staff, classes, learners, and what sign-in and sync need.
--
-- One schema for SQLite and PostgreSQL, so it sticks to their common subset: ids are UUID
-- text, times are Unix milliseconds in BIGINT, and yes/no states are text or nullable
-- timestamps (the portable `Any` driver has no boolean that both backends agree on).

-- `change_seq` is the school's change sequence that drives sync. Every write transaction
-- begins by incrementing it, which also queues a school's writers one after another, so
-- sequence numbers become visible to readers strictly in order.
CREATE TABLE school (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    settings TEXT NOT NULL DEFAULT '{}',
    -- The school's data key for sealing, encrypted with the server's master key.
    wrapped_data_key TEXT NOT NULL,
    change_seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES school (id),
    username TEXT NOT NULL,
    email TEXT,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('teacher', 'lead_teacher')),
    password_hash TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deactivated')),
    -- Bumped by a password change or deactivation; sessions of an older epoch stop working.
    credential_epoch BIGINT NOT NULL DEFAULT 0,
    seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (school_id, username)
);
CREATE INDEX staff_school_seq ON staff (school_id, seq, id);

CREATE TABLE class (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES school (id),
    name TEXT NOT NULL,
    -- Lower-cased name: "4b" and "4B" clash.
    name_key TEXT NOT NULL,
    year_group TEXT,
    archived_at BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (school_id, name_key)
);
CREATE INDEX class_school_seq ON class (school_id, seq, id);

CREATE TABLE class_teacher (
    class_id TEXT NOT NULL REFERENCES class (id),
    staff_id TEXT NOT NULL REFERENCES staff (id),
    PRIMARY KEY (class_id, staff_id)
);
CREATE INDEX class_teacher_staff ON class_teacher (staff_id);

CREATE TABLE learner (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES school (id),
    username TEXT NOT NULL,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    email TEXT,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deactivated')),
    -- Accent- and case-free names, username and email, for substring search.
    search_key TEXT NOT NULL,
    -- Accent- and case-free "family given", for a stable listing order on both backends.
    sort_key TEXT NOT NULL,
    password_hash TEXT,
    credential_epoch BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (school_id, username)
);
CREATE INDEX learner_school_seq ON learner (school_id, seq, id);
CREATE INDEX learner_school_sort ON learner (school_id, sort_key);

CREATE TABLE enrollment (
    learner_id TEXT NOT NULL REFERENCES learner (id),
    class_id TEXT NOT NULL REFERENCES class (id),
    PRIMARY KEY (learner_id, class_id)
);
CREATE INDEX enrollment_class ON enrollment (class_id);

-- Every username and email address in a school, of staff and learners alike, in one
-- namespace: the primary key is what makes them unique, deactivated accounts included.
CREATE TABLE identity_key (
    school_id TEXT NOT NULL REFERENCES school (id),
    ident TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    PRIMARY KEY (school_id, ident)
);
CREATE INDEX identity_key_owner ON identity_key (owner_id);

-- Sessions, reset and sign-in links. Only a SHA-256 of each token is stored.
CREATE TABLE token (
    hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL CHECK (purpose IN ('session', 'reset', 'sign_in_link')),
    school_id TEXT NOT NULL REFERENCES school (id),
    subject_id TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Set when the token is used up or revoked.
    used_at BIGINT
);
CREATE INDEX token_subject ON token (subject_id, purpose);

-- Sign-in attempts per school and username (existing or not), so several server instances
-- agree on throttling.
CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY,
    -- Attempts in the current window, counted before the password is checked.
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    -- Set when the attempts pass the limit: refused until then, right password or not.
    locked_until BIGINT NOT NULL DEFAULT 0
);

-- Outcomes of pushed sync operations, so a replayed operation id returns the same outcome.
CREATE TABLE applied_operation (
    school_id TEXT NOT NULL REFERENCES school (id),
    op_id TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    -- SHA-256 of the operation as sent: the same id with a different request is refused.
    request_hash TEXT NOT NULL,
    outcome TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (school_id, op_id)
);

-- Records leaving one member of staff's replica (the audience): deleted, or no longer
-- visible to them.
CREATE TABLE removal (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES school (id),
    seq BIGINT NOT NULL,
    audience_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('class', 'learner', 'staff')),
    entity_id TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('deleted', 'no_longer_visible'))
);
CREATE INDEX removal_audience_seq ON removal (audience_id, seq, id);

-- Append-only record of who did what.
CREATE TABLE audit (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES school (id),
    actor_id TEXT,
    action TEXT NOT NULL,
    subjects TEXT NOT NULL,
    device TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX audit_school_at ON audit (school_id, at);

-- Learners' credentials: who set the password, the sealed copy a teacher may show again,
-- the parent access code, and learner sessions.
--
-- Sealed values are XChaCha20-Poly1305 under the school's data key (see `school.wrapped_data_key`),
-- bound to school, learner, credential epoch and field, so a copy on another row does not open.

-- The teacher-set password, sealed, kept only while `password_set_by` is 'teacher': when the
-- learner sets their own, it is deleted.
ALTER TABLE learner ADD COLUMN password_sealed TEXT;
-- 'teacher' or 'learner'; NULL while the learner has no password.
ALTER TABLE learner ADD COLUMN password_set_by TEXT CHECK (password_set_by IN ('teacher', 'learner'));
ALTER TABLE learner ADD COLUMN password_set_at BIGINT;
-- 1: the learner must choose a new password at their next sign-in.
ALTER TABLE learner ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
-- The parent access code, sealed (to show it) and as a keyed fingerprint (to find the learner
-- from a code a parent types, without storing the code in the clear).
ALTER TABLE learner ADD COLUMN parent_code_sealed TEXT;
ALTER TABLE learner ADD COLUMN parent_code_fingerprint TEXT;
CREATE UNIQUE INDEX learner_parent_code ON learner (school_id, parent_code_fingerprint);

-- Whose token it is: a member of staff or a learner. Staff requests accept only staff
-- sessions, and learner pages only learner sessions.
ALTER TABLE token ADD COLUMN subject_kind TEXT NOT NULL DEFAULT 'staff'
    CHECK (subject_kind IN ('staff', 'learner'));

-- The audit log names the class an entry is about (if any), what was chosen (mode, style,
-- file kind) as JSON, and every learner it touched, one row each, so a teacher's view of
-- the log can be limited to their classes' learners.
ALTER TABLE audit ADD COLUMN class_id TEXT;
ALTER TABLE audit ADD COLUMN detail TEXT NOT NULL DEFAULT '{}';
CREATE TABLE audit_subject (
    audit_id TEXT NOT NULL REFERENCES audit (id),
    learner_id TEXT NOT NULL,
    PRIMARY KEY (audit_id, learner_id)
);
CREATE INDEX audit_subject_learner ON audit_subject (learner_id);

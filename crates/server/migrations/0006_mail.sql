-- The mail queue: every message the server sends waits here until it has left, so none is
-- lost when the mail server is down or this server restarts (see src/mail_queue.rs).
--
-- The body can hold a sign-in or reset link, a credential in all but name, so it is sealed
-- under the school's data key (bound to the message's id) and dropped once the message has
-- left; what stays is what a teacher needs to tell whether mail reached a learner.
CREATE TABLE mail (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES school (id),
    -- What the message is (a username reminder, password help, a teacher's message, …).
    kind TEXT NOT NULL,
    -- The account it was sent about, if any: 'staff' or 'learner', and its id.
    subject_kind TEXT,
    subject_id TEXT,
    -- The sender's display name (the school's, when the message was queued) and the address.
    from_name TEXT NOT NULL,
    to_address TEXT NOT NULL,
    title TEXT NOT NULL,
    body_sealed TEXT,
    -- 'queued' until it has left ('sent'), was refused by the mail server ('refused') or
    -- could not be delivered for too long ('failed').
    state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'refused', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    -- When the next attempt is due; while an attempt runs, when it is given up for lost
    -- (so a server that stops mid-send leaves the message to the next one).
    next_attempt_at BIGINT NOT NULL,
    -- The mail server's answer to the last failed attempt (never the message itself).
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX mail_due ON mail (state, next_attempt_at);
CREATE INDEX mail_subject ON mail (subject_id, created_at);

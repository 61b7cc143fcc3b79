-- Throttling that protects PINs without lockouts (see src/throttle.rs).
--
-- Every throttle row says when it may be forgotten, so a scheduled purge keeps the table
-- to what still matters: a client address's or a school's current window, an account's
-- failures of the last month.
ALTER TABLE login_throttle ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX login_throttle_expiry ON login_throttle (expires_at);

-- Devices that signed in successfully before (OWASP's device cookies): the client keeps a
-- random token, the server its SHA-256. A sign-in that presents one for its own account is
-- not held back by failures other devices caused.
CREATE TABLE known_device (
    hash         TEXT PRIMARY KEY,
    school_id    TEXT NOT NULL REFERENCES school (id),
    subject_kind TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX known_device_subject ON known_device (subject_id);
CREATE INDEX known_device_expiry ON known_device (expires_at);

-- For the purge of ended sessions and links.
CREATE INDEX token_expiry ON token (expires_at);

-- How a session was opened: with the password ('password') or with a sign-in link ('link').
-- A learner who came in through a link has forgotten their password, so their session may
-- choose a new one without typing the old one.
ALTER TABLE token ADD COLUMN proof TEXT NOT NULL DEFAULT 'password'
    CHECK (proof IN ('password', 'link'));

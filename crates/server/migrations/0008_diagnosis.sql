-- What "why can't they sign in?" needs to know that nothing recorded before (see
-- src/diagnosis.rs).
--
-- Who deactivated or reactivated a learner, and when: the member of staff's id (no foreign
-- key, so removing staff never rewrites a learner's history). NULL before this migration.
ALTER TABLE learner ADD COLUMN status_changed_at BIGINT;
ALTER TABLE learner ADD COLUMN status_changed_by TEXT;
-- When the learner last signed in, with a password or a sign-in link.
ALTER TABLE learner ADD COLUMN last_sign_in_at BIGINT;
-- The teacher's message a mail belongs to, and who sent it, so the sender can follow
-- each copy's delivery (NULL for the login helper's answers).
ALTER TABLE mail ADD COLUMN message_id TEXT;
ALTER TABLE mail ADD COLUMN sent_by TEXT;
CREATE INDEX mail_message ON mail (message_id);
-- When a link that no longer works (an older reset link, one used or expired) was last
-- opened or submitted: the learner is trying, with the wrong mail.
ALTER TABLE token ADD COLUMN refused_at BIGINT;

-- Who set each learner's password, and whether they must change it: the class table's
-- status columns. Never the password itself: the replica holds no learner secrets.
ALTER TABLE learner ADD COLUMN password_state TEXT NOT NULL DEFAULT 'not_set'
    CHECK (password_state IN ('not_set', 'set_by_teacher', 'set_by_learner'));
ALTER TABLE learner ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
    CHECK (must_change_password IN (0, 1));

-- An audit entry is made by a member of staff, a learner (on the school's pages) or the
-- server itself; `actor_id` names the staff member or learner, and is empty for the server.
ALTER TABLE audit ADD COLUMN actor_kind TEXT NOT NULL DEFAULT 'staff'
    CHECK (actor_kind IN ('staff', 'learner', 'server'));

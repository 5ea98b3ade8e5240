-- The lab engine's lifecycle: queued sessions wait in the store (a restart
-- keeps the line), a claimed pool session remembers the class reservation
-- it counts against, and an ended session whose environment could not be
-- removed yet says so (it still holds capacity; the reaper retries).
ALTER TABLE sessions ADD COLUMN reservation TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN env_left INTEGER NOT NULL DEFAULT 0;
DROP INDEX sessions_live;
CREATE INDEX sessions_live ON sessions (state) WHERE state IN ('queued', 'provisioning', 'ready');

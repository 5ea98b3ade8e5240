-- Deactivated and deleted accounts. A deleted account stays as a tombstone
-- row (id, role, times) so that lab sessions, exam attempts and certificates
-- that name it keep their meaning; its e-mail becomes 'deleted:<id>' and its
-- name and password hash are emptied.
ALTER TABLE users ADD COLUMN disabled_at INTEGER NOT NULL DEFAULT 0; -- unix milliseconds; 0: not deactivated
ALTER TABLE users ADD COLUMN deleted_at INTEGER NOT NULL DEFAULT 0;

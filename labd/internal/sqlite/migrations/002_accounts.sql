-- Accounts, browser sign-ins and invitations. Secrets are never stored:
-- sign-in ids and invitation tokens only as their SHA-256 (hex).
CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,   -- normalised (lower case, trimmed)
	name          TEXT NOT NULL DEFAULT '',
	role          TEXT NOT NULL CHECK (role IN ('trainee', 'lecturer', 'admin')),
	password_hash TEXT NOT NULL DEFAULT '', -- argon2id, PHC form; '' while invited
	created_at    INTEGER NOT NULL        -- unix milliseconds
);

CREATE TABLE logins (
	id_hash    TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	csrf       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	seen_at    INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX logins_user ON logins (user_id);
CREATE INDEX logins_expires ON logins (expires_at);

CREATE TABLE invitations (
	token_hash TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	email      TEXT NOT NULL,
	name       TEXT NOT NULL DEFAULT '',
	role       TEXT NOT NULL CHECK (role IN ('trainee', 'lecturer', 'admin')),
	invited_by TEXT NOT NULL,
	class_id   TEXT NOT NULL DEFAULT '',  -- the class that invited them, if any
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX invitations_user ON invitations (user_id);

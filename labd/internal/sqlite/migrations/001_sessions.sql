-- Lab sessions, their nodes and the latest result of each step's check.
CREATE TABLE sessions (
	id         TEXT PRIMARY KEY,
	lab        TEXT NOT NULL,
	owner      TEXT NOT NULL,          -- '' while waiting in a warm pool
	state      TEXT NOT NULL,
	reason     TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,       -- unix milliseconds
	ready_at   INTEGER NOT NULL DEFAULT 0,
	expires_at INTEGER NOT NULL DEFAULT 0,
	extended   INTEGER NOT NULL DEFAULT 0, -- milliseconds added by extensions
	activity_at INTEGER NOT NULL DEFAULT 0,
	ended_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_owner ON sessions (owner, created_at);
CREATE INDEX sessions_live ON sessions (state) WHERE state IN ('provisioning', 'ready');

CREATE TABLE nodes (
	session   TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	name      TEXT NOT NULL,
	container TEXT NOT NULL,
	address   TEXT NOT NULL,
	PRIMARY KEY (session, name)
);

CREATE TABLE step_results (
	session    TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	step       TEXT NOT NULL,
	passed     INTEGER NOT NULL,
	output     TEXT NOT NULL,
	detail     TEXT NOT NULL,
	checked_at INTEGER NOT NULL,
	duration   INTEGER NOT NULL,       -- milliseconds
	PRIMARY KEY (session, step)
);

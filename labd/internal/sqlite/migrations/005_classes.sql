-- Classes: a course taught by a lecturer in a time window, and its roster.
CREATE TABLE classes (
	id          TEXT PRIMARY KEY,
	title       TEXT NOT NULL,
	course      TEXT NOT NULL,
	lecturer    TEXT NOT NULL,         -- user id
	labs        TEXT NOT NULL,         -- JSON array of lab ids
	start_at    INTEGER NOT NULL,      -- unix milliseconds
	end_at      INTEGER NOT NULL,
	capacity    INTEGER NOT NULL,
	stuck_after INTEGER NOT NULL,      -- milliseconds
	created_at  INTEGER NOT NULL
);
CREATE INDEX classes_lecturer ON classes (lecturer, created_at);

CREATE TABLE class_members (
	class      TEXT NOT NULL REFERENCES classes (id),
	email      TEXT NOT NULL,          -- lower case
	name       TEXT NOT NULL,
	invited_at INTEGER NOT NULL,
	PRIMARY KEY (class, email)
);

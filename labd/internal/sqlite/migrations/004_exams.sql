-- Exam attempts. questions holds the drawn questions with their options in
-- the order shown (bank ids); answers and results are JSON too. An attempt
-- is never deleted: the count of attempts is what max_attempts limits.
CREATE TABLE exam_attempts (
	id          TEXT PRIMARY KEY,
	exam        TEXT NOT NULL,             -- the program's id
	owner       TEXT NOT NULL,
	state       TEXT NOT NULL,             -- open | submitted | expired
	started_at  INTEGER NOT NULL,          -- unix milliseconds
	deadline    INTEGER NOT NULL,
	finished_at INTEGER NOT NULL DEFAULT 0,
	questions   TEXT NOT NULL,             -- [{"q":id,"o":[option ids]}]
	answers     TEXT NOT NULL DEFAULT '{}',
	results     TEXT NOT NULL DEFAULT '[]',
	score       INTEGER NOT NULL DEFAULT 0,
	passed      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX exam_attempts_owner ON exam_attempts (owner, exam, started_at);
-- At most one open attempt per user and exam, whatever the code above does.
CREATE UNIQUE INDEX exam_attempts_open ON exam_attempts (owner, exam) WHERE state = 'open';

-- The steps of a session's environment that have been entered (their on_enter ran), and whether
-- the lab page has had their foreground commands; step '' is the lab's own foreground.
CREATE TABLE entered_steps (
	session TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	step    TEXT NOT NULL,
	opened  INTEGER NOT NULL,
	PRIMARY KEY (session, step)
);

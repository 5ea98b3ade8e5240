-- labd's schema on PostgreSQL, as SQLite's migrations 001 to 010 leave it.
-- Each later SQLite migration NNN has its PostgreSQL twin NNN here
-- (TestMigrationsPaired). Times are unix milliseconds (BIGINT) as in SQLite;
-- flags SQLite keeps as 0/1 are BOOLEAN. Tables the queries order by
-- insertion (SQLite's rowid) have seq, which the queries' rowid becomes.
CREATE TABLE sessions (
	id          TEXT PRIMARY KEY,
	lab         TEXT NOT NULL,
	owner       TEXT NOT NULL,
	state       TEXT NOT NULL,
	reason      TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	ready_at    BIGINT NOT NULL DEFAULT 0,
	expires_at  BIGINT NOT NULL DEFAULT 0,
	extended    BIGINT NOT NULL DEFAULT 0,
	activity_at BIGINT NOT NULL DEFAULT 0,
	ended_at    BIGINT NOT NULL DEFAULT 0,
	reservation TEXT NOT NULL DEFAULT '',
	env_left    BOOLEAN NOT NULL DEFAULT false,
	seq         BIGSERIAL NOT NULL
);
CREATE INDEX sessions_owner ON sessions (owner, created_at);
CREATE INDEX sessions_live ON sessions (state) WHERE state IN ('queued', 'provisioning', 'ready');

CREATE TABLE nodes (
	session   TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	name      TEXT NOT NULL,
	container TEXT NOT NULL,
	address   TEXT NOT NULL,
	seq       BIGSERIAL NOT NULL,
	PRIMARY KEY (session, name)
);

CREATE TABLE step_results (
	session    TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	step       TEXT NOT NULL,
	passed     BOOLEAN NOT NULL,
	output     TEXT NOT NULL,
	detail     TEXT NOT NULL,
	checked_at BIGINT NOT NULL,
	duration   BIGINT NOT NULL,
	PRIMARY KEY (session, step)
);

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	email         TEXT NOT NULL CONSTRAINT users_email_key UNIQUE,
	name          TEXT NOT NULL DEFAULT '',
	role          TEXT NOT NULL CHECK (role IN ('trainee', 'lecturer', 'admin')),
	password_hash TEXT NOT NULL DEFAULT '',
	created_at    BIGINT NOT NULL,
	disabled_at   BIGINT NOT NULL DEFAULT 0,
	deleted_at    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE logins (
	id_hash    TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	csrf       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	seen_at    BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
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
	class_id   TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX invitations_user ON invitations (user_id);

CREATE TABLE certificates (
	code           TEXT PRIMARY KEY,
	id             TEXT NOT NULL UNIQUE,
	program        TEXT NOT NULL,
	program_zh     TEXT NOT NULL,
	program_en     TEXT NOT NULL,
	user_id        TEXT NOT NULL,
	subject_id     TEXT NOT NULL,
	holder_name    TEXT NOT NULL,
	issued_at      BIGINT NOT NULL,
	expires_at     BIGINT NOT NULL DEFAULT 0,
	key_id         TEXT NOT NULL,
	status_list    INTEGER NOT NULL,
	status_index   INTEGER NOT NULL,
	jwt            TEXT NOT NULL,
	revoked_at     BIGINT NOT NULL DEFAULT 0,
	revoke_reason  TEXT NOT NULL DEFAULT '',
	supersedes     TEXT NOT NULL DEFAULT '',
	superseded_by  TEXT NOT NULL DEFAULT '',
	reissue_of     TEXT NOT NULL DEFAULT '',
	reissue_reason TEXT NOT NULL DEFAULT '',
	seq            BIGSERIAL NOT NULL,
	CONSTRAINT certificates_status_list_status_index_key UNIQUE (status_list, status_index)
);
CREATE INDEX certificates_user ON certificates (user_id, program, issued_at);
CREATE INDEX certificates_live ON certificates (program, user_id) WHERE revoked_at = 0 AND superseded_by = '';

CREATE TABLE certificate_subjects (
	user_id    TEXT PRIMARY KEY,
	subject_id TEXT NOT NULL UNIQUE
);

CREATE TABLE exam_attempts (
	id          TEXT PRIMARY KEY,
	exam        TEXT NOT NULL,
	owner       TEXT NOT NULL,
	state       TEXT NOT NULL,
	started_at  BIGINT NOT NULL,
	deadline    BIGINT NOT NULL,
	finished_at BIGINT NOT NULL DEFAULT 0,
	questions   TEXT NOT NULL,
	answers     TEXT NOT NULL DEFAULT '{}',
	results     TEXT NOT NULL DEFAULT '[]',
	score       INTEGER NOT NULL DEFAULT 0,
	passed      BOOLEAN NOT NULL DEFAULT false,
	seq         BIGSERIAL NOT NULL
);
CREATE INDEX exam_attempts_owner ON exam_attempts (owner, exam, started_at);
CREATE UNIQUE INDEX exam_attempts_open ON exam_attempts (owner, exam) WHERE state = 'open';

CREATE TABLE classes (
	id          TEXT PRIMARY KEY,
	title       TEXT NOT NULL,
	course      TEXT NOT NULL,
	lecturer    TEXT NOT NULL,
	labs        TEXT NOT NULL,
	start_at    BIGINT NOT NULL,
	end_at      BIGINT NOT NULL,
	capacity    INTEGER NOT NULL,
	stuck_after BIGINT NOT NULL,
	created_at  BIGINT NOT NULL
);
CREATE INDEX classes_lecturer ON classes (lecturer, created_at);

CREATE TABLE class_members (
	class      TEXT NOT NULL REFERENCES classes (id),
	email      TEXT NOT NULL,
	name       TEXT NOT NULL,
	invited_at BIGINT NOT NULL,
	seq        BIGSERIAL NOT NULL,
	PRIMARY KEY (class, email)
);

CREATE TABLE entered_steps (
	session TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	step    TEXT NOT NULL,
	opened  BOOLEAN NOT NULL,
	PRIMARY KEY (session, step)
);

-- Certificates. Rows are never deleted: revoking and renewing only mark them.
CREATE TABLE certificates (
	code          TEXT PRIMARY KEY,        -- verification code, canonical base32 (80 bits)
	id            TEXT NOT NULL UNIQUE,    -- credential id, urn:uuid:…
	program       TEXT NOT NULL,
	program_zh    TEXT NOT NULL,
	program_en    TEXT NOT NULL,
	user_id       TEXT NOT NULL,
	subject_id    TEXT NOT NULL,
	holder_name   TEXT NOT NULL,           -- frozen at issue
	issued_at     INTEGER NOT NULL,        -- unix milliseconds
	expires_at    INTEGER NOT NULL DEFAULT 0, -- 0: no expiry
	key_id        TEXT NOT NULL,
	status_list   INTEGER NOT NULL,
	status_index  INTEGER NOT NULL,
	jwt           TEXT NOT NULL,
	revoked_at    INTEGER NOT NULL DEFAULT 0,
	revoke_reason TEXT NOT NULL DEFAULT '',
	supersedes    TEXT NOT NULL DEFAULT '',
	superseded_by TEXT NOT NULL DEFAULT '',
	UNIQUE (status_list, status_index)
);
CREATE INDEX certificates_user ON certificates (user_id, issued_at);
CREATE INDEX certificates_live ON certificates (program, user_id) WHERE revoked_at = 0 AND superseded_by = '';

-- The credential subject id of each user: random, so certificates carry no
-- user name or e-mail, and the same for all of a user's certificates.
CREATE TABLE certificate_subjects (
	user_id    TEXT PRIMARY KEY,
	subject_id TEXT NOT NULL UNIQUE
);

-- An admin's reissue of a revoked certificate: the new one names the
-- revoked one and says why. A revocation otherwise holds: no claim issues
-- while a holder's newest certificate of a program is revoked.
ALTER TABLE certificates ADD COLUMN reissue_of TEXT NOT NULL DEFAULT '';
ALTER TABLE certificates ADD COLUMN reissue_reason TEXT NOT NULL DEFAULT '';
DROP INDEX certificates_user;
CREATE INDEX certificates_user ON certificates (user_id, program, issued_at);

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/xsky-academy/academy/labd/internal/certificate"
)

var _ certificate.Store = (*DB)(nil)

const certificateColumns = `code, id, program, program_zh, program_en, user_id, subject_id, holder_name,
	issued_at, expires_at, key_id, status_list, status_index, jwt, revoked_at, revoke_reason, supersedes, superseded_by,
	reissue_of, reissue_reason`

type scanner interface{ Scan(dest ...any) error }

func scanCertificate(row scanner) (*certificate.Certificate, error) {
	var c certificate.Certificate
	var issued, expires, revoked int64
	err := row.Scan(&c.Code, &c.ID, &c.Program, &c.ProgramName.ZH, &c.ProgramName.EN, &c.UserID, &c.SubjectID,
		&c.HolderName, &issued, &expires, &c.KeyID, &c.StatusList, &c.StatusIndex, &c.JWT, &revoked,
		&c.RevokeReason, &c.Supersedes, &c.SupersededBy, &c.ReissueOf, &c.ReissueReason)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, certificate.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	c.Issued, c.Expires, c.Revoked = fromMS(issued).UTC(), fromMS(expires).UTC(), fromMS(revoked).UTC()
	if expires == 0 {
		c.Expires = time.Time{}
	}
	if revoked == 0 {
		c.Revoked = time.Time{}
	}
	return &c, nil
}

const (
	queryLive = `SELECT ` + certificateColumns + ` FROM certificates
		WHERE program = ? AND user_id = ? AND revoked_at = 0 AND superseded_by = '' AND (expires_at = 0 OR expires_at > ?)
		ORDER BY issued_at DESC LIMIT 1`
	queryInsertCertificate = `INSERT INTO certificates (` + certificateColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// The newest first: issued_at is in milliseconds, rowid breaks ties.
	queryLatest = `SELECT ` + certificateColumns + ` FROM certificates
		WHERE program = ? AND user_id = ? ORDER BY issued_at DESC, rowid DESC LIMIT 1`
	queryInsertSubject = `INSERT INTO certificate_subjects (user_id, subject_id) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING`
	querySubject       = `SELECT subject_id FROM certificate_subjects WHERE user_id = ?`
)

// querier is a *sql.DB or a *txn.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// txStmt is a prepared statement in tx, or in the database when tx is nil.
func (db *DB) txStmt(ctx context.Context, tx *txn, query string) (*sql.Stmt, error) {
	s, err := db.stmt(ctx, query)
	if err != nil || tx == nil {
		return s, err
	}
	return tx.StmtContext(ctx, s), nil
}

func (db *DB) liveCertificate(ctx context.Context, tx *txn, program, user string, now time.Time) (*certificate.Certificate, error) {
	s, err := db.txStmt(ctx, tx, queryLive)
	if err != nil {
		return nil, err
	}
	return scanCertificate(s.QueryRowContext(ctx, program, user, ms(now)))
}

// LiveCertificate returns the live certificate of program for user.
func (db *DB) LiveCertificate(ctx context.Context, program, user string, now time.Time) (*certificate.Certificate, error) {
	return db.liveCertificate(ctx, nil, program, user, now)
}

// insertCertificate inserts c, and its user's subject id when the user has none.
func (db *DB) insertCertificate(ctx context.Context, tx *txn, c *certificate.Certificate) error {
	sub, err := db.txStmt(ctx, tx, queryInsertSubject)
	if err != nil {
		return err
	}
	res, err := sub.ExecContext(ctx, c.UserID, c.SubjectID)
	if err != nil {
		return fmt.Errorf("insert subject: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var have string
		if err := tx.QueryRowContext(ctx, querySubject, c.UserID).Scan(&have); err != nil {
			return err
		}
		if have != c.SubjectID {
			return certificate.ErrSubjectChanged
		}
	}
	ins, err := db.txStmt(ctx, tx, queryInsertCertificate)
	if err != nil {
		return err
	}
	_, err = ins.ExecContext(ctx,
		c.Code, c.ID, c.Program, c.ProgramName.ZH, c.ProgramName.EN, c.UserID, c.SubjectID, c.HolderName,
		ms(c.Issued), ms(c.Expires), c.KeyID, c.StatusList, c.StatusIndex, c.JWT, ms(c.Revoked), c.RevokeReason,
		c.Supersedes, c.SupersededBy, c.ReissueOf, c.ReissueReason)
	if db.db.uniqueViolation(err, "certificates.status_list, certificates.status_index", "certificates_status_list_status_index_key") {
		return certificate.ErrIndexTaken
	}
	if err != nil {
		return fmt.Errorf("insert certificate: %w", err)
	}
	return nil
}

func (db *DB) latestCertificate(ctx context.Context, tx *txn, program, user string) (*certificate.Certificate, error) {
	s, err := db.txStmt(ctx, tx, queryLatest)
	if err != nil {
		return nil, err
	}
	return scanCertificate(s.QueryRowContext(ctx, program, user))
}

// LatestCertificate returns user's newest certificate of program.
func (db *DB) LatestCertificate(ctx context.Context, program, user string) (*certificate.Certificate, error) {
	return db.latestCertificate(ctx, nil, program, user)
}

// InsertCertificate stores c unless a live certificate of its program and
// user exists, or their newest one is revoked.
func (db *DB) InsertCertificate(ctx context.Context, c *certificate.Certificate, now time.Time) (*certificate.Certificate, bool, error) {
	tx, err := db.db.BeginTx(ctx, nil) // immediate (_txlock): the checks and the insert are one step
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	live, err := db.liveCertificate(ctx, tx, c.Program, c.UserID, now)
	if err == nil {
		return live, false, nil
	}
	if !errors.Is(err, certificate.ErrNotFound) {
		return nil, false, err
	}
	last, err := db.latestCertificate(ctx, tx, c.Program, c.UserID)
	switch {
	case err == nil && !last.Revoked.IsZero():
		return nil, false, certificate.ErrRevoked
	case err != nil && !errors.Is(err, certificate.ErrNotFound):
		return nil, false, err
	}
	if err := db.insertCertificate(ctx, tx, c); err != nil {
		return nil, false, err
	}
	if err := tx.Commit(); err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// Certificate returns the certificate with code.
func (db *DB) Certificate(ctx context.Context, code string) (*certificate.Certificate, error) {
	return scanCertificate(db.db.QueryRowContext(ctx, `SELECT `+certificateColumns+` FROM certificates WHERE code = ?`, code))
}

// CertificateByID returns the certificate with the credential id.
func (db *DB) CertificateByID(ctx context.Context, id string) (*certificate.Certificate, error) {
	return scanCertificate(db.db.QueryRowContext(ctx, `SELECT `+certificateColumns+` FROM certificates WHERE id = ?`, id))
}

// UserCertificates returns user's certificates, newest first.
func (db *DB) UserCertificates(ctx context.Context, user string) ([]*certificate.Certificate, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+certificateColumns+` FROM certificates
		WHERE user_id = ? ORDER BY issued_at DESC, rowid DESC`, user)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*certificate.Certificate{}
	for rows.Next() {
		c, err := scanCertificate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RevokeCertificate marks a live certificate revoked.
func (db *DB) RevokeCertificate(ctx context.Context, code string, when time.Time, reason string) error {
	res, err := db.db.ExecContext(ctx, `UPDATE certificates SET revoked_at = ?, revoke_reason = ?
		WHERE code = ? AND revoked_at = 0 AND superseded_by = ''`, ms(when), reason, code)
	if err != nil {
		return fmt.Errorf("revoke certificate: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := db.Certificate(ctx, code); err != nil {
			return err
		}
		return certificate.ErrRevoked
	}
	return nil
}

// SupersedeCertificate stores next and marks old superseded by it.
func (db *DB) SupersedeCertificate(ctx context.Context, old string, next *certificate.Certificate, when time.Time) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE certificates SET superseded_by = ?
		WHERE code = ? AND revoked_at = 0 AND superseded_by = ''`, next.Code, old)
	if err != nil {
		return fmt.Errorf("supersede certificate: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return certificate.ErrRevoked
	}
	// Only the holder's newest certificate of the program is renewed: a newer
	// one (claimed after this one expired, perhaps revoked since) stands.
	if last, err := db.latestCertificate(ctx, tx, next.Program, next.UserID); err != nil {
		return err
	} else if last.Code != old {
		return fmt.Errorf("%w: %s is newer", certificate.ErrRevoked, last.Code)
	}
	if err := db.insertCertificate(ctx, tx, next); err != nil {
		return err
	}
	return tx.Commit()
}

// ReissueCertificate stores next if the certificate it reissues is still
// revoked and its holder's newest of the program.
func (db *DB) ReissueCertificate(ctx context.Context, next *certificate.Certificate) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	last, err := db.latestCertificate(ctx, tx, next.Program, next.UserID)
	if errors.Is(err, certificate.ErrNotFound) {
		return certificate.ErrStale
	}
	if err != nil {
		return err
	}
	if last.Code != next.ReissueOf || last.Revoked.IsZero() {
		return certificate.ErrStale
	}
	if err := db.insertCertificate(ctx, tx, next); err != nil {
		return err
	}
	return tx.Commit()
}

// RevokedIndexes returns the set bits of status list n.
func (db *DB) RevokedIndexes(ctx context.Context, list int) ([]int, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT status_index FROM certificates
		WHERE status_list = ? AND (revoked_at != 0 OR superseded_by != '') ORDER BY status_index`, list)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// StatusListUsed reports whether a certificate points at status list n.
func (db *DB) StatusListUsed(ctx context.Context, list int) (bool, error) {
	var one int
	err := db.db.QueryRowContext(ctx, `SELECT 1 FROM certificates WHERE status_list = ? LIMIT 1`, list).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// SubjectID returns user's credential subject id, or ErrNotFound before
// their first certificate (whose insert stores it).
func (db *DB) SubjectID(ctx context.Context, user string) (string, error) {
	s, err := db.stmt(ctx, querySubject)
	if err != nil {
		return "", err
	}
	var id string
	err = s.QueryRowContext(ctx, user).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", certificate.ErrNotFound
	}
	return id, err
}

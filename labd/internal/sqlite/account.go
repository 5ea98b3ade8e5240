package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
)

var _ auth.Store = (*DB)(nil)

const accountColumns = `id, email, name, role, password_hash, created_at, disabled_at, deleted_at`

func scanAccount(row interface{ Scan(...any) error }) (*auth.Account, error) {
	var a auth.Account
	var role string
	var created, disabled, deleted int64
	if err := row.Scan(&a.ID, &a.Email, &a.Name, &role, &a.PasswordHash, &created, &disabled, &deleted); err != nil {
		return nil, err
	}
	a.Role, a.Created = auth.Role(role), fromMS(created)
	a.Disabled, a.Deleted = fromMS(disabled), fromMS(deleted)
	return &a, nil
}

func oneAccount(row *sql.Row) (*auth.Account, error) {
	a, err := scanAccount(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return a, err
}

// CreateAccount inserts a new account; a taken e-mail is an auth.EConflict.
func (db *DB) CreateAccount(ctx context.Context, a *auth.Account) error {
	_, err := db.db.ExecContext(ctx, `INSERT INTO users (`+accountColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Email, a.Name, string(a.Role), a.PasswordHash, ms(a.Created), ms(a.Disabled), ms(a.Deleted))
	if db.db.uniqueViolation(err, "users.email", "users_email_key") {
		return auth.Errorf(auth.EConflict, "a user with e-mail %s already exists", a.Email)
	}
	if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	return nil
}

// UpdateAccount saves an account's name, role and password hash.
func (db *DB) UpdateAccount(ctx context.Context, a *auth.Account) error {
	res, err := db.db.ExecContext(ctx, `UPDATE users SET name = ?, role = ?, password_hash = ? WHERE id = ?`,
		a.Name, string(a.Role), a.PasswordHash, a.ID)
	if err != nil {
		return fmt.Errorf("update account %s: %w", a.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return auth.Errorf(auth.ENotFound, "no user %q", a.ID)
	}
	return nil
}

// Account returns the account with id, or nil.
func (db *DB) Account(ctx context.Context, id string) (*auth.Account, error) {
	return oneAccount(db.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM users WHERE id = ?`, id))
}

// AccountByEmail returns the account with the (normalised) e-mail, or nil.
func (db *DB) AccountByEmail(ctx context.Context, email string) (*auth.Account, error) {
	return oneAccount(db.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM users WHERE email = ?`, email))
}

// Accounts lists every account, oldest first.
func (db *DB) Accounts(ctx context.Context) ([]*auth.Account, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+accountColumns+` FROM users ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*auth.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SaveLogin stores a new sign-in, dropping expired ones as it goes.
func (db *DB) SaveLogin(ctx context.Context, l *auth.Login) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM logins WHERE expires_at <= ?`, ms(l.Created)); err != nil {
		return err
	}
	_, err := db.db.ExecContext(ctx, `INSERT INTO logins (id_hash, user_id, csrf, created_at, seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		l.IDHash, l.User, l.CSRF, ms(l.Created), ms(l.Seen), ms(l.Expires))
	if err != nil {
		return fmt.Errorf("save sign-in: %w", err)
	}
	return nil
}

// Login returns the sign-in with idHash and its account, or nils.
func (db *DB) Login(ctx context.Context, idHash string) (*auth.Login, *auth.Account, error) {
	var l auth.Login
	var created, seen, expires int64
	row := db.db.QueryRowContext(ctx, `
		SELECT l.id_hash, l.user_id, l.csrf, l.created_at, l.seen_at, l.expires_at,
			u.id, u.email, u.name, u.role, u.password_hash, u.created_at, u.disabled_at, u.deleted_at
		FROM logins l JOIN users u ON u.id = l.user_id WHERE l.id_hash = ?`, idHash)
	var a auth.Account
	var role string
	var ucreated, disabled, deleted int64
	err := row.Scan(&l.IDHash, &l.User, &l.CSRF, &created, &seen, &expires,
		&a.ID, &a.Email, &a.Name, &role, &a.PasswordHash, &ucreated, &disabled, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	l.Created, l.Seen, l.Expires = fromMS(created), fromMS(seen), fromMS(expires)
	a.Role, a.Created = auth.Role(role), fromMS(ucreated)
	a.Disabled, a.Deleted = fromMS(disabled), fromMS(deleted)
	return &l, &a, nil
}

// ExtendLogin records a sign-in's use and its new expiry.
func (db *DB) ExtendLogin(ctx context.Context, idHash string, seen, expires time.Time) error {
	_, err := db.db.ExecContext(ctx, `UPDATE logins SET seen_at = ?, expires_at = ? WHERE id_hash = ?`, ms(seen), ms(expires), idHash)
	return err
}

// DeleteLogin ends one sign-in.
func (db *DB) DeleteLogin(ctx context.Context, idHash string) error {
	_, err := db.db.ExecContext(ctx, `DELETE FROM logins WHERE id_hash = ?`, idHash)
	return err
}

// DeleteLogins ends every sign-in of user.
func (db *DB) DeleteLogins(ctx context.Context, user string) error {
	_, err := db.db.ExecContext(ctx, `DELETE FROM logins WHERE user_id = ?`, user)
	return err
}

// SaveInvitation stores inv and forgets the user's earlier unused invitations.
func (db *DB) SaveInvitation(ctx context.Context, inv *auth.Invitation) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM invitations WHERE user_id = ? AND used_at = 0`, inv.User); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO invitations (token_hash, user_id, email, name, role, invited_by, class_id, created_at, expires_at, used_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		inv.TokenHash, inv.User, inv.Email, inv.Name, string(inv.Role), inv.InvitedBy, inv.Class,
		ms(inv.Created), ms(inv.Expires), ms(inv.Used))
	if err != nil {
		return fmt.Errorf("save invitation: %w", err)
	}
	return tx.Commit()
}

// Invitation returns the invitation with tokenHash, or nil.
func (db *DB) Invitation(ctx context.Context, tokenHash string) (*auth.Invitation, error) {
	var inv auth.Invitation
	var role string
	var created, expires, used int64
	err := db.db.QueryRowContext(ctx, `SELECT token_hash, user_id, email, name, role, invited_by, class_id, created_at, expires_at, used_at
		FROM invitations WHERE token_hash = ?`, tokenHash).Scan(&inv.TokenHash, &inv.User, &inv.Email, &inv.Name, &role,
		&inv.InvitedBy, &inv.Class, &created, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	inv.Role = auth.Role(role)
	inv.Created, inv.Expires, inv.Used = fromMS(created), fromMS(expires), fromMS(used)
	return &inv, nil
}

// AcceptInvitation uses the invitation up and saves the account, together.
func (db *DB) AcceptInvitation(ctx context.Context, tokenHash string, used time.Time, a *auth.Account) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE invitations SET used_at = ? WHERE token_hash = ? AND used_at = 0 AND user_id = ?`,
		ms(used), tokenHash, a.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return auth.Errorf(auth.EConflict, "this invitation has already been used: sign in, or ask for a new one")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET name = ?, role = ?, password_hash = ? WHERE id = ?`,
		a.Name, string(a.Role), a.PasswordHash, a.ID); err != nil {
		return fmt.Errorf("activate account: %w", err)
	}
	return tx.Commit()
}

// SetDisabled deactivates (or, with a zero at, activates) the account and
// ends its sign-ins, in one transaction.
func (db *DB) SetDisabled(ctx context.Context, id string, at time.Time) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = ? WHERE id = ? AND deleted_at = 0`, ms(at), id)
	if err != nil {
		return fmt.Errorf("deactivate account %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return auth.Errorf(auth.ENotFound, "no user %q", id)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM logins WHERE user_id = ?`, id); err != nil {
		return err
	}
	return tx.Commit()
}

// DeleteAccount leaves a tombstone: the row keeps its id, role and times
// (sessions, attempts and certificates name it); everything personal goes.
// Certificates keep the holder's name they were issued with: that is the
// certificate, and it stays verifiable.
func (db *DB) DeleteAccount(ctx context.Context, id string, at time.Time) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var email string
	err = tx.QueryRowContext(ctx, `SELECT email FROM users WHERE id = ? AND deleted_at = 0`, id).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Errorf(auth.ENotFound, "no user %q", id)
	}
	if err != nil {
		return err
	}
	tomb := "deleted:" + id // unique like the id, and never an e-mail address
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE users SET email = ?, name = '', password_hash = '', deleted_at = ?,
			disabled_at = CASE disabled_at WHEN 0 THEN ? ELSE disabled_at END WHERE id = ?`, []any{tomb, ms(at), ms(at), id}},
		{`DELETE FROM logins WHERE user_id = ?`, []any{id}},
		{`DELETE FROM invitations WHERE user_id = ?`, []any{id}},
		{`UPDATE class_members SET email = ?, name = '' WHERE email = ?`, []any{tomb, email}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("delete account %s: %w", id, err)
		}
	}
	return tx.Commit()
}

package auth

import (
	"context"
	"net/mail"
	"strings"
	"time"
)

// Account is a person who signs in with an e-mail and a password.
type Account struct {
	ID      string
	Email   string // normalised: see NormalizeEmail
	Name    string
	Role    Role
	Created time.Time
	// PasswordHash is argon2id in PHC form; "" while the account is invited
	// and its invitation not yet accepted (it cannot sign in).
	PasswordHash string
	// Disabled is when an admin deactivated the account: it cannot sign in
	// and its tokens are refused. Deleted is when it was deleted: only a
	// tombstone is left (id, role, times), its personal data removed.
	Disabled, Deleted time.Time
}

// Active reports whether the account can sign in.
func (a *Account) Active() bool {
	return a.PasswordHash != "" && a.Disabled.IsZero() && a.Deleted.IsZero()
}

// State is how the account stands: active, invited (not yet accepted),
// deactivated or deleted.
func (a *Account) State() string {
	switch {
	case !a.Deleted.IsZero():
		return "deleted"
	case !a.Disabled.IsZero():
		return "deactivated"
	case a.PasswordHash == "":
		return "invited"
	}
	return "active"
}

// User is the account as a caller.
func (a *Account) User() User { return User{ID: a.ID, Role: a.Role} }

// Login is a browser's server-side sign-in. The browser holds the random id
// in a cookie; the store keeps only its SHA-256, so a copy of the database
// signs nobody in.
type Login struct {
	IDHash  string // hex SHA-256 of the id
	User    string // account id
	CSRF    string // the token unsafe requests must echo in X-CSRF-Token
	Created time.Time
	Expires time.Time // slides forward with use, up to Created+MaxLoginAge
	Seen    time.Time
}

// Invitation lets one person set a password for an account made for them.
// The secret travels only in the link's fragment; the store keeps its hash.
type Invitation struct {
	TokenHash string
	User      string // the (invited) account's id
	Email     string
	Name      string
	Role      Role
	InvitedBy string
	Class     string // optional: the class that invited them, for the classes work
	Created   time.Time
	Expires   time.Time
	Used      time.Time // zero until accepted
}

// Store keeps accounts, sign-ins and invitations. Lookups of something that
// does not exist return nil and no error.
type Store interface {
	// CreateAccount inserts a; an e-mail already taken is an EConflict *Error.
	CreateAccount(ctx context.Context, a *Account) error
	// UpdateAccount saves a's name, role and password hash.
	UpdateAccount(ctx context.Context, a *Account) error
	Account(ctx context.Context, id string) (*Account, error)
	AccountByEmail(ctx context.Context, email string) (*Account, error)
	// Accounts lists every account, oldest first, tombstones included.
	Accounts(ctx context.Context) ([]*Account, error)
	// SetDisabled deactivates the account at `at` and ends its sign-ins,
	// together; a zero `at` activates it again.
	SetDisabled(ctx context.Context, id string, at time.Time) error
	// DeleteAccount leaves a tombstone of the account (deleted at `at`): its
	// e-mail, name and password hash, sign-ins and invitations, and its
	// e-mail and name on class rosters, are removed, in one transaction.
	DeleteAccount(ctx context.Context, id string, at time.Time) error

	SaveLogin(ctx context.Context, l *Login) error
	// Login returns the sign-in with idHash and its account.
	Login(ctx context.Context, idHash string) (*Login, *Account, error)
	ExtendLogin(ctx context.Context, idHash string, seen, expires time.Time) error
	DeleteLogin(ctx context.Context, idHash string) error
	// DeleteLogins signs user out everywhere (after a password change).
	DeleteLogins(ctx context.Context, user string) error

	// SaveInvitation stores inv and forgets the user's earlier unused
	// invitations: only the newest link works.
	SaveInvitation(ctx context.Context, inv *Invitation) error
	Invitation(ctx context.Context, tokenHash string) (*Invitation, error)
	// AcceptInvitation marks the invitation used at `used` and saves the
	// account, in one transaction; if it was used meanwhile it returns an
	// EConflict *Error and changes nothing.
	AcceptInvitation(ctx context.Context, tokenHash string, used time.Time, a *Account) error
}

// NormalizeEmail trims and lower-cases an address and checks it is one bare
// address (no display name). Lower-casing the local part too is what people
// expect of e-mail sign-in, though RFC 5321 leaves it to the receiving host.
func NormalizeEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	if e == "" {
		return "", Errorf(EInvalid, "an e-mail address is required")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" || len(e) > 254 || !strings.Contains(e[strings.LastIndex(e, "@"):], ".") {
		return "", Errorf(EInvalid, "%q is not an e-mail address", s)
	}
	return e, nil
}

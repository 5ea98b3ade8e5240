package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Accounts signs people in and out, invites them and manages their roles.
type Accounts struct {
	store   Store
	params  Params
	now     func() time.Time
	limiter *Limiter
	slots   chan struct{} // bounds concurrent argon2id runs (CPU and memory)
	dummy   string        // hashed for unknown e-mails, so timing reveals nothing

	LoginTTL    time.Duration // a sign-in ends after this long unused
	MaxLoginAge time.Duration // and after this long in any case
	InviteTTL   time.Duration // default lifetime of an invitation link
}

// Options tune Accounts; the zero value is production's.
type Options struct {
	Params  Params           // DefaultParams if zero
	Now     func() time.Time // time.Now if nil
	Limiter *Limiter         // NewLimiter if nil
	Slots   int              // concurrent hashes; half the cores (at least 1) if zero
}

// NewAccounts returns the account service on store.
func NewAccounts(store Store, o Options) (*Accounts, error) {
	if o.Params == (Params{}) {
		o.Params = DefaultParams
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Limiter == nil {
		o.Limiter = NewLimiter(o.Now)
	}
	if o.Slots < 1 {
		// Half the cores: a burst of sign-ins (a class arriving) queues and
		// leaves the other half to labs and the API.
		o.Slots = max(1, runtime.GOMAXPROCS(0)/2)
	}
	dummy, err := HashPassword("dummy password for unknown e-mails", o.Params)
	if err != nil {
		return nil, err
	}
	return &Accounts{store: store, params: o.Params, now: o.Now, limiter: o.Limiter,
		slots: make(chan struct{}, o.Slots), dummy: dummy,
		LoginTTL: 12 * time.Hour, MaxLoginAge: 7 * 24 * time.Hour, InviteTTL: 7 * 24 * time.Hour}, nil
}

// hash and verify take a slot: argon2id is meant to be expensive, so a burst
// of requests queues instead of exhausting memory and cores.
func (a *Accounts) hash(ctx context.Context, password string) (string, error) {
	if err := a.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-a.slots }()
	return HashPassword(password, a.params)
}

func (a *Accounts) verify(ctx context.Context, encoded, password string) (bool, error) {
	if err := a.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-a.slots }()
	return VerifyPassword(encoded, password)
}

func (a *Accounts) acquire(ctx context.Context) error {
	select {
	case a.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// randomToken returns 256 random bits, URL-safe, and the hex SHA-256 the
// store keeps instead.
func randomToken() (token, hash string) {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand panics rather)
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func newID() string {
	var b [10]byte
	rand.Read(b[:])
	return "u_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func cleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if len(name) > 200 || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "", Errorf(EInvalid, "the name must be at most 200 bytes of printable text")
	}
	return name, nil
}

// Add creates an active account (the CLI's `labd user add`).
func (a *Accounts) Add(ctx context.Context, email, name string, role Role, password string) (*Account, error) {
	acc, err := a.newAccount(email, name, role)
	if err != nil {
		return nil, err
	}
	if err := CheckPasswordRules(password); err != nil {
		return nil, err
	}
	if acc.PasswordHash, err = a.hash(ctx, password); err != nil {
		return nil, err
	}
	if err := a.store.CreateAccount(ctx, acc); err != nil {
		return nil, err
	}
	return acc, nil
}

func (a *Accounts) newAccount(email, name string, role Role) (*Account, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if name, err = cleanName(name); err != nil {
		return nil, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return nil, Errorf(EInvalid, "%v", err)
	}
	return &Account{ID: newID(), Email: email, Name: name, Role: role, Created: a.now().UTC().Truncate(time.Millisecond)}, nil
}

// Get returns the account with id.
func (a *Accounts) Get(ctx context.Context, id string) (*Account, error) {
	acc, err := a.store.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	if acc == nil || !acc.Deleted.IsZero() {
		return nil, Errorf(ENotFound, "no user %q", id)
	}
	return acc, nil
}

// ByEmail returns the account with email.
func (a *Accounts) ByEmail(ctx context.Context, email string) (*Account, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	acc, err := a.store.AccountByEmail(ctx, e)
	if err != nil {
		return nil, err
	}
	if acc == nil {
		return nil, Errorf(ENotFound, "no user with e-mail %s", e)
	}
	return acc, nil
}

// List returns every account but deleted ones, oldest first.
func (a *Accounts) List(ctx context.Context) ([]*Account, error) {
	all, err := a.store.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(acc *Account) bool { return !acc.Deleted.IsZero() }), nil
}

// SetRole gives the account with id the role, whatever it had, except that
// the last active admin stays admin.
func (a *Accounts) SetRole(ctx context.Context, id string, role Role) (*Account, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return nil, Errorf(EInvalid, "%v", err)
	}
	acc, err := a.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if role != Admin {
		if err := a.keepAnAdmin(ctx, acc); err != nil {
			return nil, err
		}
	}
	acc.Role = role
	return acc, a.store.UpdateAccount(ctx, acc)
}

// rank orders roles by what they may do.
var rank = map[Role]int{Trainee: 1, Lecturer: 2, Admin: 3}

// Grant raises the account's role to role and never lowers it: the
// certificates work calls it when someone earns the certified-lecturer
// certificate (an admin who earns it stays admin). It reports whether the
// role changed.
func (a *Accounts) Grant(ctx context.Context, id string, role Role) (bool, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return false, Errorf(EInvalid, "%v", err)
	}
	acc, err := a.Get(ctx, id)
	if err != nil {
		return false, err
	}
	if rank[acc.Role] >= rank[role] {
		return false, nil
	}
	acc.Role = role
	return true, a.store.UpdateAccount(ctx, acc)
}

// SetPassword changes the password of the account with email and signs it
// out everywhere.
func (a *Accounts) SetPassword(ctx context.Context, email, password string) error {
	if err := CheckPasswordRules(password); err != nil {
		return err
	}
	acc, err := a.ByEmail(ctx, email)
	if err != nil {
		return err
	}
	if acc.PasswordHash, err = a.hash(ctx, password); err != nil {
		return err
	}
	if err := a.store.UpdateAccount(ctx, acc); err != nil {
		return err
	}
	return a.store.DeleteLogins(ctx, acc.ID)
}

// Session is a new sign-in as the browser sees it: the cookie's secret id
// and the CSRF token. ID is never stored.
type Session struct {
	ID      string
	CSRF    string
	Expires time.Time
}

// errSignIn is the one answer to a wrong e-mail or a wrong password: which
// of the two was wrong is not said.
var errSignIn = &Error{Code: EUnauthorized, Message: "wrong e-mail or password"}

// Login checks email and password, as asked from client (an IP address), and
// starts a sign-in. Failures are rate limited per e-mail and client.
func (a *Accounts) Login(ctx context.Context, email, password, client string) (*Account, Session, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	if len(e) > 254 { // no address is longer; keeps the limiter's keys small
		e = e[:254]
	}
	if wait, ok := a.limiter.Allow(e, client); !ok {
		return nil, Session{}, &Error{Code: ELimit, RetryAfter: wait,
			Message: fmt.Sprintf("too many failed sign-ins: try again in %s", wait.Round(time.Second))}
	}
	var acc *Account
	if norm, err := NormalizeEmail(e); err == nil {
		if acc, err = a.store.AccountByEmail(ctx, norm); err != nil {
			return nil, Session{}, err
		}
	}
	hash := a.dummy
	if acc != nil && acc.Active() {
		hash = acc.PasswordHash
	}
	ok, err := a.verify(ctx, hash, password)
	if err != nil && ctx.Err() != nil {
		return nil, Session{}, err
	}
	if err != nil || !ok || acc == nil || !acc.Active() {
		a.limiter.Fail(e, client)
		return nil, Session{}, errSignIn
	}
	a.limiter.Succeed(e, client)
	if p, _, _, _ := DecodeHash(acc.PasswordHash); p != a.params {
		// Hashed with older parameters: store the password hashed with today's.
		if h, err := a.hash(ctx, password); err == nil {
			acc.PasswordHash = h
			a.store.UpdateAccount(ctx, acc)
		}
	}
	s, err := a.startSession(ctx, acc)
	return acc, s, err
}

func (a *Accounts) startSession(ctx context.Context, acc *Account) (Session, error) {
	id, idHash := randomToken()
	csrf, _ := randomToken()
	now := a.now()
	l := &Login{IDHash: idHash, User: acc.ID, CSRF: csrf, Created: now, Seen: now, Expires: now.Add(a.LoginTTL)}
	if err := a.store.SaveLogin(ctx, l); err != nil {
		return Session{}, err
	}
	return Session{ID: id, CSRF: csrf, Expires: l.Expires}, nil
}

// Authenticate returns the account signed in by the cookie's id and the
// session's CSRF token, extending the session (sliding expiry). The role is
// the account's current one: a role change applies at once.
func (a *Accounts) Authenticate(ctx context.Context, id string) (*Account, string, error) {
	none := Errorf(EUnauthorized, "your sign-in has ended: sign in again")
	if id == "" || len(id) > 100 {
		return nil, "", none
	}
	h := hashToken(id)
	l, acc, err := a.store.Login(ctx, h)
	if err != nil {
		return nil, "", err
	}
	now := a.now()
	if l == nil || acc == nil || !now.Before(l.Expires) || !acc.Disabled.IsZero() || !acc.Deleted.IsZero() {
		if l != nil {
			a.store.DeleteLogin(ctx, h)
		}
		return nil, "", none
	}
	// Write at most once a minute: a page load makes several calls.
	if now.Sub(l.Seen) > time.Minute {
		exp := now.Add(a.LoginTTL)
		if max := l.Created.Add(a.MaxLoginAge); exp.After(max) {
			exp = max
		}
		if err := a.store.ExtendLogin(ctx, h, now, exp); err != nil {
			return nil, "", err
		}
	}
	return acc, l.CSRF, nil
}

// CheckCSRF compares a request's CSRF header with the session's token in
// constant time.
func CheckCSRF(want, got string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// Logout ends the sign-in with the cookie's id.
func (a *Accounts) Logout(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	return a.store.DeleteLogin(ctx, hashToken(id))
}

// InviteRequest asks for an account to be made for someone.
type InviteRequest struct {
	Email string
	Name  string
	Role  Role
	Class string        // optional: the class inviting them (kept with the invitation)
	TTL   time.Duration // the link's lifetime; Accounts.InviteTTL if zero
}

// Invited is the result of an invitation. Token is the secret for the link
// (put it only in a URL fragment); it is "" when the person already has an
// active account, which User then names: nothing to accept, they sign in.
type Invited struct {
	User    string
	Token   string
	Expires time.Time
}

// Invite makes (or keeps) an invited account for req.Email and a link to set
// its password. An admin may invite any role, a lecturer only trainees. The
// classes work calls it for each trainee of a roster, with req.Class.
func (a *Accounts) Invite(ctx context.Context, by User, req InviteRequest) (Invited, error) {
	if req.Role == "" {
		req.Role = Trainee
	}
	switch {
	case by.Role == Admin:
	case by.Role == Lecturer && req.Role == Trainee:
	case by.Role == Lecturer:
		return Invited{}, Errorf(EForbidden, "a lecturer may invite trainees only")
	default:
		return Invited{}, Errorf(EForbidden, "only lecturers and admins invite people")
	}
	fresh, err := a.newAccount(req.Email, req.Name, req.Role)
	if err != nil {
		return Invited{}, err
	}
	acc, err := a.store.AccountByEmail(ctx, fresh.Email)
	if err != nil {
		return Invited{}, err
	}
	if acc != nil && acc.Active() {
		return Invited{User: acc.ID}, nil
	}
	if acc != nil && !acc.Disabled.IsZero() {
		return Invited{}, Errorf(EConflict, "%s is deactivated: an admin must activate them first", acc.Email)
	}
	if acc == nil {
		acc = fresh
		if err := a.store.CreateAccount(ctx, acc); err != nil {
			return Invited{}, err
		}
	}
	ttl := req.TTL
	if ttl <= 0 {
		ttl = a.InviteTTL
	}
	token, h := randomToken()
	now := a.now()
	inv := &Invitation{TokenHash: h, User: acc.ID, Email: acc.Email, Name: fresh.Name, Role: req.Role,
		InvitedBy: by.ID, Class: req.Class, Created: now, Expires: now.Add(ttl)}
	if err := a.store.SaveInvitation(ctx, inv); err != nil {
		return Invited{}, err
	}
	return Invited{User: acc.ID, Token: token, Expires: inv.Expires}, nil
}

// Accept sets the invited account's password (and name, if given), uses the
// invitation up and signs the person in. Unknown, used and expired
// invitations change nothing.
func (a *Accounts) Accept(ctx context.Context, token, password, name string) (*Account, Session, error) {
	if err := CheckPasswordRules(password); err != nil {
		return nil, Session{}, err
	}
	name, err := cleanName(name)
	if err != nil {
		return nil, Session{}, err
	}
	h := hashToken(token)
	inv, err := a.store.Invitation(ctx, h)
	switch {
	case err != nil:
		return nil, Session{}, err
	case inv == nil || token == "":
		return nil, Session{}, Errorf(ENotFound, "this invitation link is not valid: ask for a new one")
	case !inv.Used.IsZero():
		return nil, Session{}, Errorf(EConflict, "this invitation has already been used: sign in, or ask for a new one")
	case !a.now().Before(inv.Expires):
		return nil, Session{}, Errorf(EExpired, "this invitation expired on %s: ask for a new one", inv.Expires.UTC().Format("2006-01-02 15:04 MST"))
	}
	acc, err := a.Get(ctx, inv.User)
	if err != nil {
		return nil, Session{}, err
	}
	if !acc.Disabled.IsZero() {
		return nil, Session{}, Errorf(EForbidden, "this account is deactivated: ask an admin")
	}
	if acc.PasswordHash, err = a.hash(ctx, password); err != nil {
		return nil, Session{}, err
	}
	acc.Role = inv.Role
	switch {
	case name != "":
		acc.Name = name
	case inv.Name != "":
		acc.Name = inv.Name
	}
	if err := a.store.AcceptInvitation(ctx, h, a.now(), acc); err != nil {
		return nil, Session{}, err
	}
	s, err := a.startSession(ctx, acc)
	return acc, s, err
}

package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

var fast = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newAccounts(t *testing.T, p auth.Params) (*auth.Accounts, *sqlite.DB, *clock) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	a, err := auth.NewAccounts(db, auth.Options{Params: p, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return a, db, c
}

func code(err error) string {
	var e *auth.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return "untyped: " + err.Error()
}

func TestAddAndLogin(t *testing.T) {
	ctx := context.Background()
	a, _, _ := newAccounts(t, fast)
	acc, err := a.Add(ctx, " Alice@Example.com", "Alice", auth.Trainee, "correct horse")
	if err != nil || acc.Email != "alice@example.com" || !strings.HasPrefix(acc.ID, "u_") {
		t.Fatalf("add: %+v %v", acc, err)
	}
	for name, tc := range map[string]struct {
		email, name, role, pw, code string
	}{
		"duplicate e-mail": {"ALICE@example.com", "A2", "trainee", "correct horse", auth.EConflict},
		"weak password":    {"bob@example.com", "Bob", "trainee", "short", auth.EInvalid},
		"bad e-mail":       {"bob", "Bob", "trainee", "correct horse", auth.EInvalid},
		"unknown role":     {"bob@example.com", "Bob", "root", "correct horse", auth.EInvalid},
		"control in name":  {"bob@example.com", "Bob\x00", "trainee", "correct horse", auth.EInvalid},
	} {
		if _, err := a.Add(ctx, tc.email, tc.name, auth.Role(tc.role), tc.pw); code(err) != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
	if list, _ := a.List(ctx); len(list) != 1 {
		t.Errorf("%d accounts after failed adds, want 1", len(list))
	}

	got, s, err := a.Login(ctx, "alice@EXAMPLE.com ", "correct horse", "1.2.3.4")
	if err != nil || got.ID != acc.ID || len(s.ID) < 43 || len(s.CSRF) < 43 || s.ID == s.CSRF {
		t.Fatalf("login: %+v %+v %v", got, s, err)
	}
	who, csrf, err := a.Authenticate(ctx, s.ID)
	if err != nil || who.ID != acc.ID || who.Role != auth.Trainee || csrf != s.CSRF {
		t.Fatalf("authenticate: %+v %q %v", who, csrf, err)
	}
	// Wrong password and unknown e-mail answer the same, saying nothing of which.
	_, _, e1 := a.Login(ctx, "alice@example.com", "wrong horse", "1.2.3.4")
	_, _, e2 := a.Login(ctx, "nobody@example.com", "correct horse", "1.2.3.4")
	if code(e1) != auth.EUnauthorized || e1.Error() != e2.Error() || code(e2) != auth.EUnauthorized {
		t.Errorf("wrong password %v, unknown e-mail %v", e1, e2)
	}
	if _, _, err := a.Authenticate(ctx, "made-up"); code(err) != auth.EUnauthorized {
		t.Errorf("made-up session: %v", err)
	}
	if err := a.Logout(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Authenticate(ctx, s.ID); code(err) != auth.EUnauthorized {
		t.Errorf("after logout: %v", err)
	}
}

func TestLoginRateLimited(t *testing.T) {
	ctx := context.Background()
	a, _, c := newAccounts(t, fast)
	a.Add(ctx, "alice@example.com", "Alice", auth.Trainee, "correct horse")
	for range 5 {
		a.Login(ctx, "alice@example.com", "guess guess", "1.2.3.4")
	}
	// Even the right password waits now: the limit is checked first.
	_, _, err := a.Login(ctx, "alice@example.com", "correct horse", "1.2.3.4")
	var e *auth.Error
	if !errors.As(err, &e) || e.Code != auth.ELimit || e.RetryAfter != 15*time.Minute {
		t.Fatalf("sixth try: %v", err)
	}
	c.t = c.t.Add(15 * time.Minute)
	if _, _, err := a.Login(ctx, "alice@example.com", "correct horse", "1.2.3.4"); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestSessionsExpire(t *testing.T) {
	ctx := context.Background()
	a, _, c := newAccounts(t, fast)
	a.Add(ctx, "alice@example.com", "Alice", auth.Trainee, "correct horse")
	_, s, _ := a.Login(ctx, "alice@example.com", "correct horse", "ip")
	if !s.Expires.Equal(c.t.Add(12 * time.Hour)) {
		t.Errorf("expires %v", s.Expires)
	}
	// Use slides the expiry: eleven hours apart, six times, is 66 hours signed in.
	for i := range 6 {
		c.t = c.t.Add(11 * time.Hour)
		if _, _, err := a.Authenticate(ctx, s.ID); err != nil {
			t.Fatalf("use %d: %v", i, err)
		}
	}
	// Unused for 12 hours, it ends.
	c.t = c.t.Add(12 * time.Hour)
	if _, _, err := a.Authenticate(ctx, s.ID); code(err) != auth.EUnauthorized {
		t.Errorf("after 12 idle hours: %v", err)
	}
	// However busy, a sign-in ends after MaxLoginAge.
	_, s, _ = a.Login(ctx, "alice@example.com", "correct horse", "ip")
	start := c.t
	for c.t.Sub(start) < a.MaxLoginAge-time.Hour {
		c.t = c.t.Add(time.Hour)
		if _, _, err := a.Authenticate(ctx, s.ID); err != nil {
			t.Fatalf("at %v: %v", c.t.Sub(start), err)
		}
	}
	c.t = start.Add(a.MaxLoginAge)
	if _, _, err := a.Authenticate(ctx, s.ID); code(err) != auth.EUnauthorized {
		t.Errorf("past the maximum age: %v", err)
	}
}

func TestPasswordChangeAndRoles(t *testing.T) {
	ctx := context.Background()
	a, _, _ := newAccounts(t, fast)
	acc, _ := a.Add(ctx, "alice@example.com", "Alice", auth.Trainee, "correct horse")
	_, s, _ := a.Login(ctx, "alice@example.com", "correct horse", "ip")
	// A role change applies to a live sign-in at once.
	if _, err := a.SetRole(ctx, acc.ID, auth.Lecturer); err != nil {
		t.Fatal(err)
	}
	if who, _, _ := a.Authenticate(ctx, s.ID); who.Role != auth.Lecturer {
		t.Errorf("role after change: %s", who.Role)
	}
	// Grant raises, never lowers.
	if changed, err := a.Grant(ctx, acc.ID, auth.Trainee); changed || err != nil {
		t.Errorf("grant trainee to a lecturer: %v %v", changed, err)
	}
	if changed, err := a.Grant(ctx, acc.ID, auth.Admin); !changed || err != nil {
		t.Errorf("grant admin: %v %v", changed, err)
	}
	if _, err := a.Grant(ctx, "u_nobody", auth.Lecturer); code(err) != auth.ENotFound {
		t.Errorf("grant to nobody: %v", err)
	}
	if _, err := a.SetRole(ctx, acc.ID, "root"); code(err) != auth.EInvalid {
		t.Errorf("unknown role: %v", err)
	}
	// The last admin cannot stop being one; with a second admin, they can.
	if _, err := a.SetRole(ctx, acc.ID, auth.Trainee); code(err) != auth.EConflict {
		t.Errorf("demote the last admin: %v", err)
	}
	other, _ := a.Add(ctx, "root@example.com", "Root", auth.Admin, "root's password")
	if _, err := a.SetRole(ctx, acc.ID, auth.Lecturer); err != nil {
		t.Errorf("demote an admin beside another: %v", err)
	}
	if _, err := a.SetRole(ctx, other.ID, auth.Trainee); code(err) != auth.EConflict {
		t.Errorf("demote the new last admin: %v", err)
	}
	// A new password signs out everywhere.
	if err := a.SetPassword(ctx, "alice@example.com", "new horse battery"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Authenticate(ctx, s.ID); code(err) != auth.EUnauthorized {
		t.Errorf("old sign-in after a password change: %v", err)
	}
	if _, _, err := a.Login(ctx, "alice@example.com", "new horse battery", "ip"); err != nil {
		t.Errorf("new password: %v", err)
	}
	if err := a.SetPassword(ctx, "nobody@example.com", "new horse battery"); code(err) != auth.ENotFound {
		t.Errorf("unknown user: %v", err)
	}
}

// TestRehash: a password hashed with older parameters is rehashed with the
// current ones at the next sign-in.
func TestRehash(t *testing.T) {
	ctx := context.Background()
	old, db, _ := newAccounts(t, fast)
	acc, _ := old.Add(ctx, "alice@example.com", "Alice", auth.Trainee, "correct horse")
	stronger := auth.Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	a, err := auth.NewAccounts(db, auth.Options{Params: stronger})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Login(ctx, "alice@example.com", "correct horse", "ip"); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Account(ctx, acc.ID)
	if p, _, _, _ := auth.DecodeHash(got.PasswordHash); p != stronger {
		t.Errorf("after sign-in the hash has %+v", p)
	}
}

func TestInvitations(t *testing.T) {
	ctx := context.Background()
	a, db, c := newAccounts(t, fast)
	admin := auth.User{ID: "root", Role: auth.Admin}
	lena := auth.User{ID: "lena", Role: auth.Lecturer}

	for name, tc := range map[string]struct {
		by   auth.User
		role auth.Role
		code string
	}{
		"trainee invites":           {auth.User{ID: "t", Role: auth.Trainee}, auth.Trainee, auth.EForbidden},
		"lecturer invites lecturer": {lena, auth.Lecturer, auth.EForbidden},
		"lecturer invites admin":    {lena, auth.Admin, auth.EForbidden},
		"unknown role":              {admin, "root", auth.EInvalid},
	} {
		if _, err := a.Invite(ctx, tc.by, auth.InviteRequest{Email: "x@example.com", Role: tc.role}); code(err) != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
	if list, _ := a.List(ctx); len(list) != 0 {
		t.Fatalf("refused invitations made %d accounts", len(list))
	}

	inv, err := a.Invite(ctx, lena, auth.InviteRequest{Email: "Tom@Example.com", Name: "Tom", Class: "c1"})
	if err != nil || inv.Token == "" || inv.User == "" || !inv.Expires.Equal(c.t.Add(7*24*time.Hour)) {
		t.Fatalf("invite: %+v %v", inv, err)
	}
	// The invited account exists (a roster can name it) but cannot sign in.
	tom, _ := a.ByEmail(ctx, "tom@example.com")
	if tom == nil || tom.Active() || tom.Role != auth.Trainee {
		t.Fatalf("invited account: %+v", tom)
	}
	if _, _, err := a.Login(ctx, "tom@example.com", "", "ip"); code(err) != auth.EUnauthorized {
		t.Errorf("an invited account signed in: %v", err)
	}
	stored, _ := db.Invitation(ctx, "x")
	if stored != nil {
		t.Error("found an invitation by a made-up hash")
	}

	// A weak password changes nothing; the link still works after.
	if _, _, err := a.Accept(ctx, inv.Token, "short", ""); code(err) != auth.EInvalid {
		t.Errorf("weak password: %v", err)
	}
	acc, s, err := a.Accept(ctx, inv.Token, "tom's long password", "Tom Li")
	if err != nil || acc.ID != inv.User || acc.Name != "Tom Li" || s.ID == "" {
		t.Fatalf("accept: %+v %v", acc, err)
	}
	if who, _, err := a.Authenticate(ctx, s.ID); err != nil || who.ID != inv.User {
		t.Errorf("signed in after accepting: %+v %v", who, err)
	}
	// Used once, never again; the password set stays.
	if _, _, err := a.Accept(ctx, inv.Token, "another password!", ""); code(err) != auth.EConflict {
		t.Errorf("reused: %v", err)
	}
	if _, _, err := a.Login(ctx, "tom@example.com", "tom's long password", "ip"); err != nil {
		t.Errorf("password after a refused reuse: %v", err)
	}
	if _, _, err := a.Accept(ctx, "made-up-token", "tom's long password", ""); code(err) != auth.ENotFound {
		t.Errorf("unknown: %v", err)
	}
	// An active account gets no token: they sign in.
	again, err := a.Invite(ctx, admin, auth.InviteRequest{Email: "tom@example.com", Role: auth.Trainee})
	if err != nil || again.Token != "" || again.User != inv.User {
		t.Errorf("invite an active account: %+v %v", again, err)
	}

	// Expired: refused, and nothing changes.
	old, _ := a.Invite(ctx, admin, auth.InviteRequest{Email: "ann@example.com", Role: auth.Lecturer, TTL: time.Hour})
	c.t = c.t.Add(time.Hour)
	if _, _, err := a.Accept(ctx, old.Token, "ann's long password", ""); code(err) != auth.EExpired {
		t.Errorf("expired: %v", err)
	}
	if ann, _ := a.ByEmail(ctx, "ann@example.com"); ann.Active() {
		t.Error("an expired invitation activated the account")
	}
	// A new invitation replaces the unused old one; it makes a lecturer.
	first, _ := a.Invite(ctx, admin, auth.InviteRequest{Email: "ann@example.com", Role: auth.Lecturer})
	second, _ := a.Invite(ctx, admin, auth.InviteRequest{Email: "ann@example.com", Role: auth.Lecturer})
	if first.User != old.User || second.User != old.User {
		t.Error("re-inviting made another account")
	}
	if _, _, err := a.Accept(ctx, first.Token, "ann's long password", ""); code(err) != auth.ENotFound {
		t.Errorf("the replaced link: %v", err)
	}
	ann, _, err := a.Accept(ctx, second.Token, "ann's long password", "")
	if err != nil || ann.Role != auth.Lecturer {
		t.Errorf("accept the newest link: %+v %v", ann, err)
	}
}

func TestCheckCSRF(t *testing.T) {
	for _, tc := range []struct {
		want, got string
		ok        bool
	}{
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "", false},
		{"", "", false},
		{"abc", "abcd", false},
	} {
		if auth.CheckCSRF(tc.want, tc.got) != tc.ok {
			t.Errorf("CheckCSRF(%q, %q) != %v", tc.want, tc.got, tc.ok)
		}
	}
}

// BenchmarkLogin measures a whole sign-in with the production parameters:
// the account lookup, argon2id and the new session's insert.
func BenchmarkLogin(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "labd.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	a, err := auth.NewAccounts(db, auth.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.Add(ctx, "alice@example.com", "Alice", auth.Trainee, "correct horse"); err != nil {
		b.Fatal(err)
	}
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, _, err := a.Login(ctx, "alice@example.com", "correct horse", "ip"); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	if len(times) > 0 {
		slices.Sort(times)
		b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(times[len(times)*9/10].Microseconds())/1000, "p90-ms")
	}
}

func TestRosterInvites(t *testing.T) {
	ctx := context.Background()
	a, _, _ := newAccounts(t, fast)
	old, _ := a.Add(ctx, "old@example.com", "Old", auth.Trainee, "old's password")
	r := auth.RosterInvites{Accounts: a, Lang: "en"}
	url, err := r.Invite(ctx, "New@Example.com", "New", "c42")
	if err != nil || !strings.HasPrefix(url, "/en/invite/#") || len(url) < len("/en/invite/#")+43 {
		t.Fatalf("invite: %q %v", url, err)
	}
	if url, err := r.Invite(ctx, "old@example.com", "Old", "c42"); err != nil || url != "/en/login/" {
		t.Errorf("an account holder's link: %q %v", url, err)
	}
	users, err := r.Users(ctx, []string{"old@example.com", "New@Example.com", "none@example.com"})
	if err != nil || users["old@example.com"] != old.ID || users["New@Example.com"] == "" || len(users) != 2 {
		t.Errorf("users: %v %v", users, err)
	}
	acc, _, err := a.Accept(ctx, strings.TrimPrefix(url, "/en/invite/#"), "new's long password", "")
	if err != nil || acc.Role != auth.Trainee || acc.ID != users["New@Example.com"] {
		t.Errorf("accept the roster link: %+v %v", acc, err)
	}
}

package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
)

func TestAccountStore(t *testing.T) { forEachDB(t, testAccountStore) }

func testAccountStore(t *testing.T, dsn string) {
	ctx := context.Background()
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.UnixMilli(time.Now().UnixMilli())
	a := &auth.Account{ID: "u_a", Email: "a@example.com", Name: "A", Role: auth.Trainee, Created: now}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	var e *auth.Error
	if err := db.CreateAccount(ctx, &auth.Account{ID: "u_b", Email: "a@example.com", Role: auth.Trainee, Created: now}); !errors.As(err, &e) || e.Code != auth.EConflict {
		t.Errorf("duplicate e-mail: %v", err)
	}
	if err := db.CreateAccount(ctx, &auth.Account{ID: "u_c", Email: "c@example.com", Role: "root", Created: now}); err == nil {
		t.Error("the schema took an unknown role")
	}
	if err := db.UpdateAccount(ctx, &auth.Account{ID: "u_nobody", Role: auth.Trainee}); !errors.As(err, &e) || e.Code != auth.ENotFound {
		t.Errorf("update nobody: %v", err)
	}

	// Sign-ins: found with their account, extended, deleted; gone with the user's.
	l := &auth.Login{IDHash: "h1", User: "u_a", CSRF: "c", Created: now, Seen: now, Expires: now.Add(time.Hour)}
	if err := db.SaveLogin(ctx, l); err != nil {
		t.Fatal(err)
	}
	got, acc, err := db.Login(ctx, "h1")
	if err != nil || got.CSRF != "c" || !got.Expires.Equal(l.Expires) || acc.Email != "a@example.com" {
		t.Fatalf("login: %+v %+v %v", got, acc, err)
	}
	db.ExtendLogin(ctx, "h1", now.Add(time.Minute), now.Add(2*time.Hour))
	if got, _, _ = db.Login(ctx, "h1"); !got.Expires.Equal(now.Add(2 * time.Hour)) {
		t.Errorf("extended to %v", got.Expires)
	}
	// An expired sign-in is swept when another is saved.
	db.SaveLogin(ctx, &auth.Login{IDHash: "old", User: "u_a", CSRF: "c", Created: now.Add(-time.Hour), Seen: now, Expires: now.Add(-time.Minute)})
	db.SaveLogin(ctx, &auth.Login{IDHash: "h2", User: "u_a", CSRF: "c", Created: now, Seen: now, Expires: now.Add(time.Hour)})
	if old, _, _ := db.Login(ctx, "old"); old != nil {
		t.Error("an expired sign-in was kept")
	}
	db.DeleteLogins(ctx, "u_a")
	if got, _, _ := db.Login(ctx, "h1"); got != nil {
		t.Error("a sign-in outlived DeleteLogins")
	}

	// Invitations: only the newest unused one is kept; accepting is once.
	inv := func(h string) *auth.Invitation {
		return &auth.Invitation{TokenHash: h, User: "u_a", Email: "a@example.com", Role: auth.Lecturer, InvitedBy: "root",
			Class: "c1", Created: now, Expires: now.Add(time.Hour)}
	}
	db.SaveInvitation(ctx, inv("t1"))
	db.SaveInvitation(ctx, inv("t2"))
	if old, _ := db.Invitation(ctx, "t1"); old != nil {
		t.Error("the replaced invitation was kept")
	}
	if got, _ := db.Invitation(ctx, "t2"); got == nil || got.Class != "c1" || got.Role != auth.Lecturer {
		t.Fatalf("invitation: %+v", got)
	}
	a.PasswordHash, a.Role = "$argon2id$first", auth.Lecturer
	if err := db.AcceptInvitation(ctx, "t2", now, a); err != nil {
		t.Fatal(err)
	}
	second := *a
	second.PasswordHash = "$argon2id$second"
	if err := db.AcceptInvitation(ctx, "t2", now, &second); !errors.As(err, &e) || e.Code != auth.EConflict {
		t.Errorf("second accept: %v", err)
	}
	if got, _ := db.Account(ctx, "u_a"); got.PasswordHash != "$argon2id$first" || got.Role != auth.Lecturer {
		t.Errorf("after a refused second accept: %+v", got)
	}
	if used, _ := db.Invitation(ctx, "t2"); used.Used.IsZero() {
		t.Error("the accepted invitation is not marked used")
	}
	// A used invitation stays (a record), even when a new one is made.
	db.SaveInvitation(ctx, inv("t3"))
	if used, _ := db.Invitation(ctx, "t2"); used == nil {
		t.Error("a used invitation was deleted")
	}
}

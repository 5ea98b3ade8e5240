package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/class"
)

func TestDeactivateAndDeleteAccount(t *testing.T) { forEachDB(t, testDeactivateAndDeleteAccount) }

func testDeactivateAndDeleteAccount(t *testing.T, dsn string) {
	ctx := context.Background()
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.UnixMilli(time.Now().UnixMilli())
	for _, a := range []*auth.Account{
		{ID: "u_a", Email: "a@example.com", Name: "张伟", Role: auth.Trainee, Created: now, PasswordHash: "$argon2id$x"},
		{ID: "u_b", Email: "b@example.com", Name: "B", Role: auth.Trainee, Created: now},
	} {
		if err := db.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveLogin(ctx, &auth.Login{IDHash: "h-" + a.ID, User: a.ID, CSRF: "c", Created: now, Seen: now, Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := db.SaveInvitation(ctx, &auth.Invitation{TokenHash: "i-" + a.ID, User: a.ID, Email: a.Email, Name: a.Name, Role: auth.Trainee,
			InvitedBy: "root", Created: now, Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	c := &class.Class{ID: "c1", Title: "T", Course: "ceph-ops", Lecturer: "lena", Labs: []string{"demo"}, Start: now, End: now.Add(time.Hour), Capacity: 5, Created: now}
	if err := db.CreateClass(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := db.AddMembers(ctx, "c1", []class.Member{{Email: "a@example.com", Name: "张伟", Invited: now}, {Email: "b@example.com", Name: "B", Invited: now}}); err != nil {
		t.Fatal(err)
	}

	// Deactivating ends the sign-ins, and can be undone.
	if err := db.SetDisabled(ctx, "u_a", now); err != nil {
		t.Fatal(err)
	}
	if l, _, _ := db.Login(ctx, "h-u_a"); l != nil {
		t.Error("a deactivated account's sign-in survived")
	}
	if a, _ := db.Account(ctx, "u_a"); !a.Disabled.Equal(now) || a.State() != "deactivated" || a.Active() {
		t.Errorf("deactivated: %+v %s", a, a.State())
	}
	if err := db.SetDisabled(ctx, "u_a", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if a, _ := db.Account(ctx, "u_a"); !a.Disabled.IsZero() || a.State() != "active" {
		t.Errorf("activated again: %+v", a)
	}
	var e *auth.Error
	if err := db.SetDisabled(ctx, "u_nobody", now); !errors.As(err, &e) || e.Code != auth.ENotFound {
		t.Errorf("deactivate nobody: %v", err)
	}

	// Deleting leaves a tombstone and nothing personal.
	if err := db.DeleteAccount(ctx, "u_a", now); err != nil {
		t.Fatal(err)
	}
	a, err := db.Account(ctx, "u_a")
	if err != nil || a == nil {
		t.Fatalf("the tombstone is gone: %v", err)
	}
	if a.Email != "deleted:u_a" || a.Name != "" || a.PasswordHash != "" || !a.Deleted.Equal(now) || a.Disabled.IsZero() || a.Role != auth.Trainee || a.State() != "deleted" {
		t.Errorf("tombstone: %+v", a)
	}
	if got, _ := db.AccountByEmail(ctx, "a@example.com"); got != nil {
		t.Error("the deleted e-mail still finds the account")
	}
	if inv, _ := db.Invitation(ctx, "i-u_a"); inv != nil {
		t.Error("the deleted account's invitation survived")
	}
	if inv, _ := db.Invitation(ctx, "i-u_b"); inv == nil {
		t.Error("someone else's invitation went too")
	}
	members, _ := db.Members(ctx, "c1")
	if len(members) != 2 || members[0].Email != "deleted:u_a" || members[0].Name != "" || members[1].Email != "b@example.com" {
		t.Errorf("roster after the delete: %+v", members)
	}
	if err := db.DeleteAccount(ctx, "u_a", now); !errors.As(err, &e) || e.Code != auth.ENotFound {
		t.Errorf("delete twice: %v", err)
	}
	if err := db.SetDisabled(ctx, "u_a", time.Time{}); !errors.As(err, &e) || e.Code != auth.ENotFound {
		t.Errorf("activate a deleted account: %v", err)
	}
	// The e-mail is free for a new account.
	if err := db.CreateAccount(ctx, &auth.Account{ID: "u_a2", Email: "a@example.com", Role: auth.Trainee, Created: now}); err != nil {
		t.Errorf("reuse the e-mail: %v", err)
	}
}

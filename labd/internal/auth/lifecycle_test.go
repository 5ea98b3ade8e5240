package auth_test

import (
	"context"
	"testing"

	"github.com/xsky-academy/academy/labd/internal/auth"
)

func TestDeactivateActivateDelete(t *testing.T) {
	ctx := context.Background()
	a, db, _ := newAccounts(t, fast)
	root, _ := a.Add(ctx, "root@example.com", "Root", auth.Admin, "root's long password")
	alice, _ := a.Add(ctx, "alice@example.com", "Alice", auth.Trainee, "alice's password")
	_, sess, err := a.Login(ctx, "alice@example.com", "alice's password", "c")
	if err != nil {
		t.Fatal(err)
	}

	// Deactivated: the sign-in ends at once, no new one, tokens refused.
	if got, err := a.Deactivate(ctx, alice.ID); err != nil || got.State() != "deactivated" {
		t.Fatalf("deactivate: %+v %v", got, err)
	}
	if _, _, err := a.Authenticate(ctx, sess.ID); code(err) != auth.EUnauthorized {
		t.Errorf("the sign-in still works: %v", err)
	}
	if _, _, err := a.Login(ctx, "alice@example.com", "alice's password", "c"); code(err) != auth.EUnauthorized {
		t.Errorf("a deactivated account signs in: %v", err)
	}
	if err := a.CheckActive(ctx, alice.ID); code(err) != auth.EUnauthorized {
		t.Errorf("a deactivated account's token: %v", err)
	}
	if _, err := a.Invite(ctx, root.User(), auth.InviteRequest{Email: "alice@example.com"}); code(err) != auth.EConflict {
		t.Errorf("inviting a deactivated account: %v", err)
	}
	if err := a.CheckActive(ctx, "script-user"); err != nil {
		t.Errorf("a token for no account: %v", err)
	}

	// Activated: the old password works again.
	if got, err := a.Activate(ctx, alice.ID); err != nil || got.State() != "active" {
		t.Fatalf("activate: %+v %v", got, err)
	}
	if _, _, err := a.Login(ctx, "alice@example.com", "alice's password", "c"); err != nil {
		t.Errorf("sign in after activation: %v", err)
	}
	if err := a.CheckActive(ctx, alice.ID); err != nil {
		t.Errorf("token after activation: %v", err)
	}

	// The last admin stays: neither deactivated nor deleted nor demoted.
	if _, err := a.Deactivate(ctx, root.ID); code(err) != auth.EConflict {
		t.Errorf("deactivate the last admin: %v", err)
	}
	if err := a.Delete(ctx, root.ID); code(err) != auth.EConflict {
		t.Errorf("delete the last admin: %v", err)
	}
	ada, _ := a.Add(ctx, "ada@example.com", "Ada", auth.Admin, "ada's long password")
	if _, err := a.Deactivate(ctx, root.ID); err != nil {
		t.Errorf("deactivate an admin with another one left: %v", err)
	}
	// A deactivated admin does not count: ada is the last one now.
	if err := a.Delete(ctx, ada.ID); code(err) != auth.EConflict {
		t.Errorf("delete the last active admin: %v", err)
	}
	if _, err := a.SetRole(ctx, ada.ID, auth.Trainee); code(err) != auth.EConflict {
		t.Errorf("demote the last active admin: %v", err)
	}

	// Deleted: gone from the list and from sign-in, a tombstone in the store.
	inv, _ := a.Invite(ctx, ada.User(), auth.InviteRequest{Email: "bob@example.com", Name: "Bob"})
	bob, _ := a.ByEmail(ctx, "bob@example.com")
	for _, id := range []string{alice.ID, bob.ID} {
		if err := a.Delete(ctx, id); err != nil {
			t.Fatalf("delete %s: %v", id, err)
		}
	}
	if _, _, err := a.Accept(ctx, inv.Token, "bob's long password", ""); code(err) != auth.ENotFound {
		t.Errorf("a deleted account's invitation: %v", err)
	}
	if _, err := a.Get(ctx, alice.ID); code(err) != auth.ENotFound {
		t.Errorf("get a deleted account: %v", err)
	}
	if _, err := a.Activate(ctx, alice.ID); code(err) != auth.ENotFound {
		t.Errorf("activate a deleted account: %v", err)
	}
	if err := a.CheckActive(ctx, alice.ID); code(err) != auth.EUnauthorized {
		t.Errorf("a deleted account's token: %v", err)
	}
	list, _ := a.List(ctx)
	for _, acc := range list {
		if acc.ID == alice.ID || acc.ID == bob.ID {
			t.Errorf("listed after delete: %+v", acc)
		}
	}
	tomb, _ := db.Account(ctx, alice.ID)
	if tomb == nil || tomb.Email == "alice@example.com" || tomb.Name != "" || tomb.PasswordHash != "" {
		t.Errorf("tombstone: %+v", tomb)
	}
	// The address can have a new account, a new person.
	if again, err := a.Add(ctx, "alice@example.com", "Alice", auth.Trainee, "alice's password"); err != nil || again.ID == alice.ID {
		t.Errorf("a new account with the address: %+v %v", again, err)
	}
}

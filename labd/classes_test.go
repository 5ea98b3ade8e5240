package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/class"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

// TestClassAccounts: roster trainees are invited as trainees with the class
// kept on the invitation, and count as users once they accept.
func TestClassAccounts(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	accounts, err := auth.NewAccounts(db, auth.Options{Params: auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	a := classAccounts{accounts}
	lena := class.Who{User: "lena"}

	url, err := a.Invite(ctx, lena, "ada@example.com", "Ada", "cls-1")
	token, ok := strings.CutPrefix(url, "/zh/invite/#")
	if err != nil || !ok || token == "" {
		t.Fatalf("invite: %q %v", url, err)
	}
	users, err := a.Users(ctx, []string{"ada@example.com", "nobody@example.com"})
	if err != nil || len(users) != 0 {
		t.Fatalf("before accepting: %v %v", users, err)
	}
	acc, _, err := accounts.Accept(ctx, token, "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	if acc.Role != auth.Trainee || acc.Name != "Ada" {
		t.Errorf("account %+v", acc)
	}
	users, err = a.Users(ctx, []string{"ada@example.com", "nobody@example.com"})
	if err != nil || len(users) != 1 || users["ada@example.com"] != acc.ID {
		t.Fatalf("after accepting: %v %v", users, err)
	}
	// An active account needs no link; an admin may invite too.
	if url, err := a.Invite(ctx, class.Who{User: "root", Admin: true}, "ada@example.com", "Ada", "cls-2"); err != nil || url != "" {
		t.Errorf("inviting an active account: %q %v", url, err)
	}
	if _, err := a.Invite(ctx, lena, "not-an-address", "X", "cls-1"); err == nil {
		t.Error("a bad address was invited")
	}
}

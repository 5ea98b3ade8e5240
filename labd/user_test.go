package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

func TestUserCommand(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	env := func(k string) string {
		if k == "LABD_DATA" {
			return data
		}
		return ""
	}
	user := func(stdin string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := userCmd(ctx, args, env, strings.NewReader(stdin), &out, &errb)
		return out.String() + errb.String(), err
	}
	out, err := user("correct horse\n", "add", "--email", "Alice@Example.com", "--name", "Alice", "--role", "lecturer", "--password-stdin")
	if err != nil || !strings.Contains(out, "alice@example.com (lecturer)") {
		t.Fatalf("add: %q %v", out, err)
	}
	for _, tc := range []struct {
		name, stdin string
		args        []string
		err         string
	}{
		{"duplicate", "another password\n", []string{"add", "--email", "alice@example.com", "--name", "A", "--password-stdin"}, "already exists"},
		{"weak password", "short\n", []string{"add", "--email", "bob@example.com", "--name", "Bob", "--password-stdin"}, "at least 10 characters"},
		{"no password", "", []string{"add", "--email", "bob@example.com", "--name", "Bob", "--password-stdin"}, "no password"},
		{"no terminal", "", []string{"add", "--email", "bob@example.com", "--name", "Bob"}, "--password-stdin"},
		{"bad role", "correct horse\n", []string{"add", "--email", "bob@example.com", "--role", "root", "--password-stdin"}, "unknown role"},
		{"bad e-mail", "correct horse\n", []string{"add", "--email", "bob", "--password-stdin"}, "not an e-mail address"},
		{"no e-mail", "", []string{"role", "--role", "admin"}, "--email is required"},
		{"unknown user passwd", "new password!\n", []string{"passwd", "--email", "nobody@example.com", "--password-stdin"}, "no user"},
		{"unknown user role", "", []string{"role", "--email", "nobody@example.com", "--role", "admin"}, "no user"},
		{"unknown command", "", []string{"delete"}, "usage"},
	} {
		if out, err := user(tc.stdin, tc.args...); err == nil || !strings.Contains(err.Error()+out, tc.err) {
			t.Errorf("%s: %q %v, want an error with %q", tc.name, out, err, tc.err)
		}
	}
	if out, err := user("", "role", "--email", "alice@example.com", "--role", "admin"); err != nil || !strings.Contains(out, "is now admin") {
		t.Errorf("role: %q %v", out, err)
	}
	if _, err := user("the new password\n", "passwd", "--email", "alice@example.com", "--password-stdin"); err != nil {
		t.Errorf("passwd: %v", err)
	}
	out, err = user("", "list")
	if err != nil || !strings.Contains(out, "alice@example.com") || !strings.Contains(out, "admin") || strings.Count(out, "\n") != 2 {
		t.Errorf("list: %q %v", out, err)
	}
	// What the commands wrote is what labd reads: the new password signs in.
	db, err := sqlite.Open(ctx, filepath.Join(data, "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, _ := auth.NewAccounts(db, auth.Options{})
	if acc, _, err := a.Login(ctx, "alice@example.com", "the new password", "cli"); err != nil || acc.Role != auth.Admin {
		t.Errorf("sign in after the CLI: %+v %v", acc, err)
	}
}

func TestTokenCommand(t *testing.T) {
	data := t.TempDir()
	env := func(string) string { return "" }
	for _, tc := range []struct {
		ttl  string
		want string // "" for a token
	}{
		{"1h", ""},
		{"720h", ""},
		{"-1h", "more than 0"},
		{"0", "more than 0"},
		{"0s", "more than 0"},
		{"721h", "at most 720h"},
		{"100000h", "at most 720h"},
	} {
		var out, errb bytes.Buffer
		err := token([]string{"--user", "alice", "--role", "trainee", "--ttl", tc.ttl, "--data", data}, env, &out, &errb)
		switch {
		case tc.want == "" && (err != nil || strings.Count(out.String(), ".") != 2):
			t.Errorf("--ttl %s: %q %v, want a token", tc.ttl, out.String(), err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || out.Len() > 0):
			t.Errorf("--ttl %s: %q %v, want an error with %q and no token", tc.ttl, out.String(), err, tc.want)
		}
	}
}

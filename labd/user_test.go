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
		{"unknown command", "", []string{"remove"}, "usage"},
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

// deactivate, activate, delete and list, as the CLI runs them beside labd.
func TestUserLifecycleCommands(t *testing.T) {
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
	for _, u := range [][]string{{"root@example.com", "Root", "admin"}, {"wei@example.com", "张伟", "trainee"}, {"bob@example.com", "Bob", "lecturer"}} {
		if out, err := user("correct horse\n", "add", "--email", u[0], "--name", u[1], "--role", u[2], "--password-stdin"); err != nil {
			t.Fatalf("add %s: %q %v", u[0], out, err)
		}
	}
	db, err := sqlite.Open(ctx, filepath.Join(data, "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	accounts, _ := auth.NewAccounts(db, auth.Options{})
	wei, _ := accounts.ByEmail(ctx, "wei@example.com")
	_, sess, err := accounts.Login(ctx, "wei@example.com", "correct horse", "cli")
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"delete"}, "--email is required"},
		{[]string{"deactivate", "--email", "nobody@example.com"}, "no user"},
		{[]string{"delete", "--email", "root@example.com"}, "last admin"},
		{[]string{"deactivate", "--email", "root@example.com"}, "last admin"},
	} {
		if out, err := user("", tc.args...); err == nil || !strings.Contains(err.Error()+out, tc.want) {
			t.Errorf("%v: %q %v, want an error with %q", tc.args, out, err, tc.want)
		}
	}
	if out, err := user("", "deactivate", "--email", "wei@example.com"); err != nil || !strings.Contains(out, "deactivated") {
		t.Fatalf("deactivate: %q %v", out, err)
	}
	// The running labd sees it at once: the sign-in and the token stop.
	if _, _, err := accounts.Authenticate(ctx, sess.ID); err == nil {
		t.Error("the deactivated user's sign-in still works")
	}
	if err := accounts.CheckActive(ctx, wei.ID); err == nil {
		t.Error("the deactivated user's tokens still work")
	}
	out, err := user("", "list")
	if err != nil || !strings.Contains(out, "deactivated") {
		t.Errorf("list: %q %v", out, err)
	}
	if out, err := user("", "activate", "--email", "wei@example.com"); err != nil || !strings.Contains(out, "active again") {
		t.Errorf("activate: %q %v", out, err)
	}
	if err := accounts.CheckActive(ctx, wei.ID); err != nil {
		t.Errorf("after activate: %v", err)
	}

	// Columns line up on a terminal after a Chinese name: every column
	// starts at the same cell in every line.
	out, _ = user("", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("list: %q", out)
	}
	for _, col := range []string{"ROLE", "STATE", "CREATED"} {
		want := displayWidth(lines[0][:strings.Index(lines[0], col)])
		for _, line := range lines[1:] {
			f := strings.Fields(line)
			var value string
			switch col {
			case "ROLE":
				value = " " + f[len(f)-4] + " "
			case "STATE":
				value = " " + f[len(f)-3] + " "
			case "CREATED":
				value = " " + f[len(f)-2] + " "
			}
			if got := displayWidth(line[:strings.Index(line, value)+1]); got != want {
				t.Errorf("%s starts at cell %d in %q, at %d in the header", col, got, line, want)
			}
		}
	}

	if out, err := user("", "delete", "--email", "wei@example.com"); err != nil || !strings.Contains(out, "deleted") {
		t.Fatalf("delete: %q %v", out, err)
	}
	if out, _ := user("", "list"); strings.Contains(out, "wei@example.com") || strings.Contains(out, "张伟") || strings.Count(out, "\n") != 3 {
		t.Errorf("list after delete: %q", out)
	}
	if out, err := user("", "activate", "--email", "wei@example.com"); err == nil {
		t.Errorf("activate a deleted user: %q", out)
	}
}

func TestDisplayWidth(t *testing.T) {
	for s, want := range map[string]int{"": 0, "Bob": 3, "张伟": 4, "Ｂｏｂ": 6, "é": 1, "e\u0301": 1, "김": 2, "Zoë 张": 6} {
		if got := displayWidth(s); got != want {
			t.Errorf("displayWidth(%q) = %d, want %d", s, got, want)
		}
	}
}

// --origins takes origins only: a bare host would silently match nothing.
func TestServeRefusesBadOrigins(t *testing.T) {
	for _, o := range []string{"partner.example", "ftp://partner.example", "https://partner.example/app", "https://u@partner.example"} {
		var out, errb bytes.Buffer
		err := serve(context.Background(), []string{"--origins", o, "--data", t.TempDir()}, func(string) string { return "" }, &out, &errb)
		if err == nil || !strings.Contains(err.Error(), "origins:") {
			t.Errorf("--origins %s: %v, want refused", o, err)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// testPostgres returns the URL of a new schema in $LABD_TEST_DB's database
// (`make postgres` prints the URL), dropped at the end of the test.
func testPostgres(t *testing.T) string {
	t.Helper()
	base := os.Getenv("LABD_TEST_DB")
	if base == "" {
		if testing.Short() {
			t.Skip("-short: no PostgreSQL (set LABD_TEST_DB to run this)")
		}
		t.Fatal("LABD_TEST_DB is not set: run `make postgres` and set LABD_TEST_DB to the LABD_DB=postgres://... URL it prints last")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		t.Fatalf("PostgreSQL at LABD_TEST_DB: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// An installation on SQLite moves to PostgreSQL with labd db copy, and the
// commands then work on it through --db / $LABD_DB.
func TestDBCopyAndFlag(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	pg := testPostgres(t)
	envWith := func(db string) func(string) string {
		return func(k string) string {
			switch k {
			case "LABD_DATA":
				return data
			case "LABD_DB":
				return db
			}
			return ""
		}
	}
	user := func(env func(string) string, stdin string, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := userCmd(ctx, args, env, strings.NewReader(stdin), &out, &errb); err != nil {
			t.Fatalf("user %v: %v %s", args, err, errb.String())
		}
		return out.String()
	}
	labd := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(ctx, args, envWith(""), &out, &errb)
		return code, out.String() + errb.String()
	}
	user(envWith(""), "correct horse\n", "add", "--email", "alice@example.com", "--name", "Alice", "--password-stdin")
	user(envWith(""), "correct horse\n", "add", "--email", "bob@example.com", "--name", "Bob", "--password-stdin")

	if code, out := labd("db", "copy", "--from", "sqlite:"+filepath.Join(data, "nope.db"), "--to", pg); code != 1 || !strings.Contains(out, "no such file") {
		t.Errorf("copy from a missing file: %d %q", code, out)
	}
	code, out := labd("db", "copy", "--from", "sqlite:"+filepath.Join(data, "labd.db"), "--to", pg)
	if code != 0 || !strings.Contains(out, "every count equal") || !strings.Contains(out, "users       2       2") {
		t.Fatalf("db copy: %d\n%s", code, out)
	}
	// The data is on PostgreSQL now: $LABD_DB and --db both reach it.
	if out := user(envWith(pg), "", "list"); !strings.Contains(out, "alice@example.com") || !strings.Contains(out, "bob@example.com") {
		t.Errorf("list on PostgreSQL: %q", out)
	}
	user(envWith(""), "correct horse\n", "add", "--db", pg, "--email", "carol@example.com", "--name", "Carol", "--password-stdin")
	if out := user(envWith(pg), "", "list"); !strings.Contains(out, "carol@example.com") {
		t.Errorf("carol is not on PostgreSQL: %q", out)
	}
	if out := user(envWith(""), "", "list"); strings.Contains(out, "carol") {
		t.Errorf("carol landed in SQLite: %q", out)
	}
	// A second copy would mix two installations: refused.
	if code, out := labd("db", "copy", "--from", "sqlite:"+filepath.Join(data, "labd.db"), "--to", pg); code != 1 || !strings.Contains(out, "not empty") {
		t.Errorf("second copy: %d %q", code, out)
	}
	if code, out := labd("migrate", "--db", pg); code != 0 || !strings.Contains(out, "postgres schema is current") {
		t.Errorf("migrate: %d %q", code, out)
	}
	if code, out := labd("migrate", "--db", "mysql://x"); code != 1 || !strings.Contains(out, "postgres:// URL") {
		t.Errorf("migrate with a bad --db: %d %q", code, out)
	}
}

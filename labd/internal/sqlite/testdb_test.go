package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// forEachDB runs a store test on both databases: a new SQLite file, and a
// schema of its own in the PostgreSQL at $LABD_TEST_DB (the URL `make
// postgres` prints). Outside -short, no LABD_TEST_DB is a failure: the
// store's contract holds on both or it does not hold.
func forEachDB(t *testing.T, test func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { test(t, filepath.Join(t.TempDir(), "labd.db")) })
	t.Run("postgres", func(t *testing.T) { test(t, postgresDSN(t)) })
}

// postgresDSN makes a fresh schema in $LABD_TEST_DB's database, dropped when
// the test ends, and returns a URL whose connections use it.
func postgresDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv("LABD_TEST_DB")
	if base == "" {
		if testing.Short() {
			t.Skip("-short: no PostgreSQL (set LABD_TEST_DB to run these)")
		}
		t.Fatal("LABD_TEST_DB is not set: run `make postgres` and set LABD_TEST_DB to the LABD_DB=postgres://... URL it prints last")
	}
	if !isPostgresURL(base) {
		t.Fatalf("LABD_TEST_DB=%q is not a postgres:// URL", base)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("PostgreSQL at LABD_TEST_DB: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Error(err)
			return
		}
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

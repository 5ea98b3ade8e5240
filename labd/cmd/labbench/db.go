package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// dbFigures measures the API's session create, get and check on PostgreSQL
// against the same on SQLite, with labd's local runtime so that the
// database, not Docker, is what differs. PostgreSQL is $LABD_DB (the URL
// `make postgres` prints); the bench works in a schema of its own.
func dbFigures(bin, tmp, instance string) error {
	base := os.Getenv("LABD_DB")
	if base == "" {
		return fmt.Errorf("db: LABD_DB is not set: run `make postgres` and set LABD_DB to the URL it prints")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return err
	}
	defer admin.Close()
	schema := fmt.Sprintf("bench_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		return fmt.Errorf("db: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`)
	}()
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	fmt.Println("the API on PostgreSQL and on SQLite (local runtime):")
	lite, err := apiLatencies(bin, filepath.Join(tmp, "data-sqlite"), instance+"s")
	if err != nil {
		return err
	}
	pg, err := apiLatencies(bin, filepath.Join(tmp, "data-pg"), instance+"p", "--db", u.String())
	if err != nil {
		return err
	}
	for _, op := range []string{"create", "get", "check"} {
		p, l := pg[op], lite[op]
		p50, l50 := percentile(p, 0.5), percentile(l, 0.5)
		report(figure{"PostgreSQL session " + op + " p50",
			fmt.Sprintf("%s (p99 %s)", us(p50), us(percentile(p, 0.99))),
			fmt.Sprintf("SQLite %s (p99 %s)", us(l50), us(percentile(l, 0.99))),
			fmt.Sprintf("%.2f", float64(p50)/float64(l50)), "p50 ≤ 1.5× SQLite"})
	}
	return nil
}

// apiLatencies starts a labd and times session creates (until ready), gets
// and step checks through its API.
func apiLatencies(bin, data, instance string, args ...string) (map[string][]time.Duration, error) {
	l, err := startLabd(bin, data, instance, append([]string{"--runtime", "local", "--max-per-user", "1000", "--max-sessions", "400"}, args...)...)
	if err != nil {
		return nil, err
	}
	defer l.stop()
	out := map[string][]time.Duration{}
	tok := l.user()
	var ids []string
	defer func() {
		for _, id := range ids {
			l.end(tok, id)
		}
	}()
	for i := range 40 {
		t0 := time.Now()
		var s session
		if _, err := l.call("POST", "/api/sessions", tok, map[string]string{"lab": "linux-basics"}, &s); err != nil {
			return nil, err
		}
		if i >= 5 { // the first few warm caches and connections up
			out["create"] = append(out["create"], time.Since(t0))
		}
		ids = append(ids, s.ID)
		for s.State == "provisioning" || s.State == "queued" {
			if _, err := l.call("GET", "/api/sessions/"+s.ID+"?wait=60s", tok, nil, &s); err != nil {
				return nil, err
			}
		}
		if s.State != "ready" {
			return nil, fmt.Errorf("session %s %s: %s", s.ID, s.State, s.Reason)
		}
	}
	id := ids[len(ids)-1]
	for i := range 300 {
		t0 := time.Now()
		if _, err := l.call("GET", "/api/sessions/"+id, tok, nil, nil); err != nil {
			return nil, err
		}
		if i >= 20 {
			out["get"] = append(out["get"], time.Since(t0))
		}
	}
	for i := range 60 {
		t0 := time.Now()
		if _, err := l.call("POST", "/api/sessions/"+id+"/steps/make-notes/check", tok, nil, nil); err != nil {
			return nil, err
		}
		if i >= 5 {
			out["check"] = append(out["check"], time.Since(t0))
		}
	}
	return out, nil
}

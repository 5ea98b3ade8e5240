package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/certificate"
	"github.com/xsky-academy/academy/labd/internal/class"
	"github.com/xsky-academy/academy/labd/internal/exam"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// populate fills every table through the stores, with rows whose insertion
// order and flags matter.
func populate(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	now := time.UnixMilli(time.Now().UnixMilli())
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		id := fmt.Sprintf("u%d", i)
		must(db.CreateAccount(ctx, &auth.Account{ID: id, Email: id + "@x", Name: "名前 " + id, Role: auth.Role("trainee"), PasswordHash: "$argon2id$" + id, Created: now}))
		must(db.SaveLogin(ctx, &auth.Login{IDHash: "h" + id, User: id, CSRF: "c", Created: now, Seen: now, Expires: now.Add(time.Hour)}))
		s := &lab.Session{ID: "s" + id, Lab: "l", Owner: id, State: lab.Ready, Created: now, EnvLeft: i%2 == 0,
			Nodes: []lab.NodeAddr{{Name: "n2", Container: "c2", Address: "10.0.0.3"}, {Name: "n1", Container: "c1", Address: "10.0.0.2"}}}
		must(db.SaveSession(ctx, s))
		must(db.SaveStepResult(ctx, s.ID, lab.StepResult{Step: "one", Passed: i%2 == 1, Output: "out\nput", Detail: "d", Checked: now, Duration: time.Second}))
		must(db.SaveEntered(ctx, s.ID, "one", i%2 == 0))
		_, _, err := db.InsertCertificate(ctx, &certificate.Certificate{ID: "urn:" + id, Code: "C" + id, Program: "p", UserID: id,
			SubjectID: "sub" + id, HolderName: "H", Issued: now, KeyID: "k", StatusList: 1, StatusIndex: i, JWT: "j"}, now)
		must(err)
		must(db.UpdateAttempts(ctx, id, "e", func([]*exam.Attempt) ([]*exam.Attempt, error) {
			return []*exam.Attempt{{ID: "a" + id, Exam: "e", User: id, State: exam.State("submitted"), Started: now, Deadline: now,
				Questions: []exam.Drawn{{Question: "q", Options: []string{"x"}}}, Score: 90, Passed: i%2 == 0}}, nil
		}))
	}
	must(db.SaveInvitation(ctx, &auth.Invitation{TokenHash: "t", User: "u1", Email: "u1@x", Role: auth.Role("trainee"), InvitedBy: "u0", Created: now, Expires: now.Add(time.Hour)}))
	must(db.CreateClass(ctx, &class.Class{ID: "k", Title: "K", Course: "c", Lecturer: "u0", Labs: []string{"l"}, Start: now, End: now, Capacity: 3, Created: now}))
	must(db.AddMembers(ctx, "k", []class.Member{{Email: "z@x", Name: "Z", Invited: now}, {Email: "a@x", Name: "A", Invited: now}}))
}

// dump reads every table in insertion order, flags as 0/1.
func dump(t *testing.T, db *DB) map[string][][]any {
	t.Helper()
	ctx := context.Background()
	tables, err := db.tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][][]any{}
	for _, table := range tables {
		cols, _, err := db.columns(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		order := "rowid"
		if db.db.dialect == postgresDialect {
			order = "1"
			if hasSeq(ctx, db, table) {
				order = "seq"
			}
		}
		rows, err := db.db.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+table+` ORDER BY `+order)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				switch v := v.(type) {
				case bool:
					vals[i] = map[bool]int64{false: 0, true: 1}[v]
				case int32:
					vals[i] = int64(v)
				}
			}
			out[table] = append(out[table], vals)
		}
		rows.Close()
	}
	return out
}

func TestCopySQLiteToPostgres(t *testing.T) {
	ctx := context.Background()
	src := openDB(t, filepath.Join(t.TempDir(), "labd.db"))
	populate(t, src)
	dst := openDB(t, postgresDSN(t))
	counts, err := Copy(ctx, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) < 12 {
		t.Errorf("copied %d tables: %v", len(counts), counts)
	}
	want, got := dump(t, src), dump(t, dst)
	for table, rows := range want {
		if len(rows) == 0 {
			t.Errorf("%s: populate left it empty", table)
		}
		if !reflect.DeepEqual(rows, got[table]) {
			t.Errorf("%s differs:\nsqlite   %v\npostgres %v", table, rows, got[table])
		}
	}
	if len(got) != len(want) {
		t.Errorf("tables: sqlite %d, postgres %d", len(want), len(got))
	}
	// The copy works for the stores: the roster keeps its order.
	ms, _ := dst.Members(ctx, "k")
	if len(ms) != 2 || ms[0].Email != "z@x" {
		t.Errorf("members after copy: %v", ms)
	}
	// Text PostgreSQL cannot hold (NUL, invalid UTF-8) is kept readable, not refused.
	if err := src.SaveStepResult(ctx, "su1", lab.StepResult{Step: "raw", Output: "a\x00b\xffc", Checked: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := dst.SaveStepResult(ctx, "su1", lab.StepResult{Step: "raw", Output: "a\x00b\xffc", Checked: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if s, _ := dst.Session(ctx, "su1"); len(s.Steps) != 2 || s.Steps[1].Output != "a\uFFFDb\uFFFDc" && s.Steps[0].Output != "a\uFFFDb\uFFFDc" {
		t.Errorf("raw output on PostgreSQL: %+v", s.Steps)
	}
	// A second copy into a database with data refuses, and adds nothing.
	if _, err := Copy(ctx, src, dst); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("copy into a full database: %v", err)
	}
	if n, _ := dst.count(ctx, "users"); n != 5 {
		t.Errorf("users after the refused copy: %d", n)
	}
}

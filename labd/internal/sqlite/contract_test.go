package sqlite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/certificate"
	"github.com/xsky-academy/academy/labd/internal/class"
	"github.com/xsky-academy/academy/labd/internal/exam"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// The stores' contract beyond the other tests here, on both databases: the
// places where the dialects differ (constraint errors, flags, ties broken
// by insertion order, the write lock) are what it exercises.

func openDB(t *testing.T, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestClassStore(t *testing.T) { forEachDB(t, testClassStore) }

func testClassStore(t *testing.T, dsn string) {
	ctx, db := context.Background(), openDB(t, dsn)
	now := time.UnixMilli(time.Now().UnixMilli())
	for i, id := range []string{"c1", "c2"} {
		c := &class.Class{ID: id, Title: "T " + id, Course: "ceph-ops", Lecturer: "lee", Labs: []string{"a", "b"},
			Start: now, End: now.Add(time.Hour), Capacity: 20, StuckAfter: 10 * time.Minute, Created: now.Add(time.Duration(i) * time.Second)}
		if err := db.CreateClass(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Class(ctx, "c1")
	if err != nil || got == nil || got.Capacity != 20 || got.StuckAfter != 10*time.Minute || !slices.Equal(got.Labs, []string{"a", "b"}) || !got.End.Equal(now.Add(time.Hour)) {
		t.Fatalf("class: %+v %v", got, err)
	}
	if none, err := db.Class(ctx, "nope"); none != nil || err != nil {
		t.Errorf("missing class: %v %v", none, err)
	}
	list, _ := db.Classes(ctx, "lee")
	if len(list) != 2 || list[0].ID != "c2" {
		t.Errorf("classes newest first: %v", list)
	}
	// Members come back in the order imported, not sorted.
	members := []class.Member{{Email: "zed@x", Name: "Zed", Invited: now}, {Email: "amy@x", Name: "Amy", Invited: now}, {Email: "mo@x", Name: "Mo", Invited: now}}
	if err := db.AddMembers(ctx, "c1", members); err != nil {
		t.Fatal(err)
	}
	// A duplicate is a conflict, and the whole batch is lost, not half of it.
	err = db.AddMembers(ctx, "c1", []class.Member{{Email: "new@x", Name: "New", Invited: now}, {Email: "amy@x", Name: "Amy", Invited: now}})
	var le *lab.Error
	if !errors.As(err, &le) || le.Code != lab.EConflict {
		t.Errorf("duplicate member: %v", err)
	}
	ms, _ := db.Members(ctx, "c1")
	var emails []string
	for _, m := range ms {
		emails = append(emails, m.Email)
	}
	if !slices.Equal(emails, []string{"zed@x", "amy@x", "mo@x"}) {
		t.Errorf("members %v", emails)
	}
	if err := db.EndClass(ctx, "c1", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Class(ctx, "c1"); !got.End.Equal(now.Add(time.Minute)) {
		t.Errorf("ended at %v", got.End)
	}
}

func TestExamAndEnteredStore(t *testing.T) { forEachDB(t, testExamAndEnteredStore) }

func testExamAndEnteredStore(t *testing.T, dsn string) {
	ctx, db := context.Background(), openDB(t, dsn)
	now := time.UnixMilli(time.Now().UnixMilli())
	open := func(id string) *exam.Attempt {
		return &exam.Attempt{ID: id, Exam: "ceph", User: "ann", State: exam.State("open"), Started: now, Deadline: now.Add(time.Hour),
			Questions: []exam.Drawn{{Question: "q1", Options: []string{"b", "a"}}}, Answers: map[string][]string{}}
	}
	add := func(a *exam.Attempt) error {
		return db.UpdateAttempts(ctx, "ann", "ceph", func(have []*exam.Attempt) ([]*exam.Attempt, error) { return []*exam.Attempt{a}, nil })
	}
	if err := add(open("a1")); err != nil {
		t.Fatal(err)
	}
	// The schema allows one open attempt per user and exam.
	if err := add(open("a2")); err == nil {
		t.Error("a second open attempt was saved")
	}
	err := db.UpdateAttempts(ctx, "ann", "ceph", func(have []*exam.Attempt) ([]*exam.Attempt, error) {
		if len(have) != 1 {
			return nil, fmt.Errorf("have %d attempts", len(have))
		}
		a := have[0]
		a.State, a.Finished, a.Score, a.Passed = exam.State("submitted"), now, 80, true
		a.Answers = map[string][]string{"q1": {"a"}}
		return []*exam.Attempt{a}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	atts, _ := db.Attempts(ctx, "ann", "ceph")
	if len(atts) != 1 || !atts[0].Passed || atts[0].Score != 80 || atts[0].Answers["q1"][0] != "a" || atts[0].Questions[0].Options[0] != "b" {
		t.Errorf("attempts %+v", atts)
	}
	// Someone else's attempt is refused.
	err = db.UpdateAttempts(ctx, "ann", "ceph", func([]*exam.Attempt) ([]*exam.Attempt, error) {
		a := open("x")
		a.User = "bob"
		return []*exam.Attempt{a}, nil
	})
	if err == nil {
		t.Error("saved bob's attempt under ann")
	}

	db.SaveSession(ctx, &lab.Session{ID: "s1", Lab: "l1", Owner: "ann", State: lab.Ready, Created: now})
	db.SaveStepResult(ctx, "s1", lab.StepResult{Step: "one", Passed: true, Checked: now})
	db.SaveStepResult(ctx, "s1", lab.StepResult{Step: "two", Passed: false, Checked: now})
	passed, err := db.PassedSteps(ctx, "ann")
	if err != nil || len(passed) != 1 || !slices.Equal(passed[0].Steps, []string{"one"}) {
		t.Errorf("passed steps %+v %v", passed, err)
	}

	// Opened, once true, stays true.
	for _, e := range []struct {
		step   string
		opened bool
	}{{"one", false}, {"one", true}, {"one", false}, {"", false}} {
		if err := db.SaveEntered(ctx, "s1", e.step, e.opened); err != nil {
			t.Fatal(err)
		}
	}
	entered, _ := db.Entered(ctx, "s1")
	if len(entered) != 2 || !entered["one"] || entered[""] {
		t.Errorf("entered %v", entered)
	}
	db.ClearEntered(ctx, "s1")
	if entered, _ := db.Entered(ctx, "s1"); len(entered) != 0 {
		t.Errorf("after clearing: %v", entered)
	}
}

func TestCertificateStore(t *testing.T) { forEachDB(t, testCertificateStore) }

func testCertificateStore(t *testing.T, dsn string) {
	ctx, db := context.Background(), openDB(t, dsn)
	now := time.UnixMilli(time.Now().UnixMilli()).UTC()
	cert := func(code string, index int) *certificate.Certificate {
		return &certificate.Certificate{ID: "urn:uuid:" + code, Code: code, Program: "p", ProgramName: certificate.Text{ZH: "中", EN: "P"},
			UserID: "u1", SubjectID: "urn:uuid:sub", HolderName: "Ann", Issued: now, KeyID: "k", StatusList: 1, StatusIndex: index, JWT: "jwt." + code}
	}
	c1 := cert("AAAA", 7)
	got, inserted, err := db.InsertCertificate(ctx, c1, now)
	if err != nil || !inserted || got.Code != "AAAA" {
		t.Fatalf("insert: %v %v %v", got, inserted, err)
	}
	// A live one exists: the same comes back.
	if got, inserted, err := db.InsertCertificate(ctx, cert("BBBB", 8), now); err != nil || inserted || got.Code != "AAAA" {
		t.Errorf("second claim: %v %v %v", got, inserted, err)
	}
	// A taken status index is ErrIndexTaken, on both databases.
	other := cert("CCCC", 7)
	other.UserID, other.Program = "u2", "q"
	other.SubjectID = "urn:uuid:sub2"
	if _, _, err := db.InsertCertificate(ctx, other, now); !errors.Is(err, certificate.ErrIndexTaken) {
		t.Errorf("taken index: %v", err)
	}
	// Same issue millisecond: the later saved is the newest.
	next := cert("DDDD", 9)
	next.Supersedes = "AAAA"
	if err := db.SupersedeCertificate(ctx, "AAAA", next, now); err != nil {
		t.Fatal(err)
	}
	list, _ := db.UserCertificates(ctx, "u1")
	if len(list) != 2 || list[0].Code != "DDDD" || list[1].SupersededBy != "DDDD" || list[0].ProgramName.ZH != "中" || !list[0].Issued.Equal(now) {
		t.Errorf("user certificates %+v", list)
	}
	if last, _ := db.LatestCertificate(ctx, "p", "u1"); last == nil || last.Code != "DDDD" {
		t.Errorf("latest %v", last)
	}
	if err := db.RevokeCertificate(ctx, "DDDD", now, "cheating"); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeCertificate(ctx, "DDDD", now, "again"); !errors.Is(err, certificate.ErrRevoked) {
		t.Errorf("revoking twice: %v", err)
	}
	if idx, _ := db.RevokedIndexes(ctx, 1); !slices.Equal(idx, []int{7, 9}) {
		t.Errorf("revoked indexes %v", idx)
	}
	if used, _ := db.StatusListUsed(ctx, 1); !used {
		t.Error("status list 1 unused")
	}
	if used, _ := db.StatusListUsed(ctx, 2); used {
		t.Error("status list 2 used")
	}
	if sub, err := db.SubjectID(ctx, "u1"); sub != "urn:uuid:sub" || err != nil {
		t.Errorf("subject %q %v", sub, err)
	}
	if _, err := db.SubjectID(ctx, "nobody"); !errors.Is(err, certificate.ErrNotFound) {
		t.Errorf("no subject: %v", err)
	}
	if _, err := db.Certificate(ctx, "ZZZZ"); !errors.Is(err, certificate.ErrNotFound) {
		t.Errorf("missing certificate: %v", err)
	}
	// A new subject id for a user who has one is refused.
	changed := cert("EEEE", 10)
	changed.Program, changed.SubjectID = "r", "urn:uuid:other"
	if _, _, err := db.InsertCertificate(ctx, changed, now); !errors.Is(err, certificate.ErrSubjectChanged) {
		t.Errorf("changed subject: %v", err)
	}
}

func TestDuplicateEmail(t *testing.T) { forEachDB(t, testDuplicateEmail) }

func testDuplicateEmail(t *testing.T, dsn string) {
	ctx, db := context.Background(), openDB(t, dsn)
	a := &auth.Account{ID: "u1", Email: "a@x", Role: auth.Role("trainee"), Created: time.Now()}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	b := &auth.Account{ID: "u2", Email: "a@x", Role: auth.Role("trainee"), Created: time.Now()}
	var ae *auth.Error
	if err := db.CreateAccount(ctx, b); !errors.As(err, &ae) || ae.Code != auth.EConflict {
		t.Errorf("duplicate e-mail: %v", err)
	}
}

// Every SQLite migration after the PostgreSQL baseline has a PostgreSQL
// twin with the same number, so both schemas reach the same version.
func TestMigrationsPaired(t *testing.T) {
	lite, err := dialectMigrations(sqliteDialect)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := dialectMigrations(postgresDialect)
	if err != nil {
		t.Fatal(err)
	}
	baseline := pg[0].n
	have := map[int]bool{}
	for _, m := range pg {
		have[m.n] = true
	}
	for _, m := range lite {
		if m.n > baseline && !have[m.n] {
			t.Errorf("SQLite migration %s has no PostgreSQL twin migrations/postgres/%03d_*.sql", m.name, m.n)
		}
	}
	if lite[len(lite)-1].n != pg[len(pg)-1].n {
		t.Errorf("SQLite's schema ends at %d, PostgreSQL's at %d", lite[len(lite)-1].n, pg[len(pg)-1].n)
	}
}

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT a FROM t WHERE x = ? AND y IN (?, ?)`, `SELECT a FROM t WHERE x = $1 AND y IN ($2, $3)`},
		{`SELECT '?', x FROM t WHERE y = ? ORDER BY rowid`, `SELECT '?', x FROM t WHERE y = $1 ORDER BY seq`},
		{`ORDER BY s.rowid DESC, rowids, my_rowid`, `ORDER BY s.seq DESC, rowids, my_rowid`},
		{`WHERE a = 'it''s ?' AND b = ?`, `WHERE a = 'it''s ?' AND b = $1`},
		{`'unterminated ?`, `'unterminated ?`},
	} {
		if got := rebind(c.in); got != c.want {
			t.Errorf("rebind(%q)\n = %q\nwant %q", c.in, got, c.want)
		}
	}
}

func FuzzRebind(f *testing.F) {
	f.Add(`SELECT ? FROM t WHERE a = '?' ORDER BY rowid`)
	f.Fuzz(func(t *testing.T, q string) {
		out := rebind(q)
		if !strings.Contains(q, "?") && !strings.Contains(strings.ToLower(q), "rowid") && out != q {
			t.Errorf("rebind changed %q to %q", q, out)
		}
	})
}

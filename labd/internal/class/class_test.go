package class_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/class"
	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/lab/labtest"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

// accounts is a hand-written fake of the accounts service: invitations are
// recorded, and a trainee "has an account" once listed in users.
type accounts struct {
	mu      sync.Mutex
	invited []string
	users   map[string]string // email -> user id
	fail    string            // an e-mail whose invitation fails
}

func (a *accounts) Invite(ctx context.Context, email, name, classID string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if email == a.fail {
		return "", errors.New("mail server down")
	}
	a.invited = append(a.invited, email)
	return "/zh/invite/#tok-" + email, nil
}

func (a *accounts) Users(ctx context.Context, emails []string) (map[string]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]string{}
	for _, e := range emails {
		if id, ok := a.users[e]; ok {
			out[e] = id
		}
	}
	return out, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	svc   *class.Service
	labs  *lab.Service
	rt    *labtest.Runtime
	db    *sqlite.DB
	acc   *accounts
	clock *clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	rt := labtest.NewRuntime()
	catalog := lab.NewCatalog(labtest.Lab("demo"), labtest.Lab("other"))
	labs := lab.NewService(lab.Config{Now: c.Now, ReapEvery: time.Hour, MaxPerUser: 5}, catalog, rt, db)
	if err := labs.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(labs.Close)
	<-labs.Recovered() // an empty runtime and store: at once
	acc := &accounts{users: map[string]string{}}
	svc := &class.Service{Store: db, Accounts: acc, Labs: labs, Now: c.Now,
		LabExists: func(id string) bool { _, ok := catalog.Lab(id); return ok }}
	return &fixture{svc, labs, rt, db, acc, c}
}

var lee = class.Who{User: "lee"}

func (f *fixture) class(t *testing.T, start time.Duration, capacity int) *class.Class {
	t.Helper()
	now := f.clock.Now()
	c, err := f.svc.Create(context.Background(), lee, class.Class{Title: "Ceph ops, week 48", Course: "ceph-ops",
		Labs: []string{"demo"}, Start: now.Add(start), End: now.Add(start + 8*time.Hour), Capacity: capacity})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCreateValidates(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	good := class.Class{Title: "T", Course: "ceph-ops", Labs: []string{"demo"}, Start: now, End: now.Add(time.Hour), Capacity: 10}
	tests := []struct {
		name string
		mod  func(c *class.Class)
		want string
	}{
		{"no title", func(c *class.Class) { c.Title = " " }, "title"},
		{"no course", func(c *class.Class) { c.Course = "" }, "course"},
		{"window backwards", func(c *class.Class) { c.End = c.Start.Add(-time.Minute) }, "window"},
		{"capacity 0", func(c *class.Class) { c.Capacity = 0 }, "capacity"},
		{"unknown lab", func(c *class.Class) { c.Labs = []string{"nope"} }, `no lab "nope"`},
		{"lab twice", func(c *class.Class) { c.Labs = []string{"demo", "demo"} }, "twice"},
		{"no labs", func(c *class.Class) { c.Labs = nil }, "labs"},
	}
	for _, tt := range tests {
		c := good
		tt.mod(&c)
		_, err := f.svc.Create(context.Background(), lee, c)
		if lab.ErrorCodeOf(err) != lab.EInvalid || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want invalid mentioning %q", tt.name, err, tt.want)
		}
	}
	if cs, _ := f.svc.Classes(context.Background(), lee); len(cs) != 0 {
		t.Errorf("%d classes stored from bad input", len(cs))
	}
}

func TestImportAllOrNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.class(t, time.Hour, 3)

	// A bad line: nothing imported, nobody invited.
	_, err := f.svc.Import(ctx, lee, c.ID, []byte("name,email\nAda,ada@example.com\nBob,bob-at-example\n"))
	var re class.RosterError
	if !errors.As(err, &re) || len(re) != 1 || re[0].Line != 3 {
		t.Fatalf("error %v, want line 3 reported", err)
	}
	if ms, _ := f.svc.Roster(ctx, lee, c.ID); len(ms) != 0 || len(f.acc.invited) != 0 {
		t.Fatalf("a refused roster left %d members and %d invitations", len(ms), len(f.acc.invited))
	}

	invs, err := f.svc.Import(ctx, lee, c.ID, []byte("Ada,ada@example.com\nBob,Bob@Example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(invs) != 2 || invs[1].Email != "bob@example.com" || !strings.Contains(invs[0].URL, "#tok-ada@example.com") {
		t.Errorf("invitations %+v", invs)
	}
	// An invitation that fails leaves the roster as it was; importing again works.
	f.acc.fail = "eve@example.com"
	if _, err := f.svc.Import(ctx, lee, c.ID, []byte("Eve,eve@example.com\n")); err == nil || !strings.Contains(err.Error(), "mail server down") {
		t.Fatalf("failing invitation: %v", err)
	}
	if ms, _ := f.svc.Roster(ctx, lee, c.ID); len(ms) != 2 {
		t.Fatalf("a failed invitation left %d members, want 2", len(ms))
	}
	f.acc.fail = ""
	// Already on the roster; over capacity.
	if _, err := f.svc.Import(ctx, lee, c.ID, []byte("Ada,ada@example.com\n")); err == nil || !strings.Contains(err.Error(), "already on the roster") {
		t.Errorf("duplicate import: %v", err)
	}
	if _, err := f.svc.Import(ctx, lee, c.ID, []byte("C,c@example.com\nD,d@example.com\n")); lab.ErrorCodeOf(err) != lab.EInvalid {
		t.Errorf("over capacity: %v", err)
	}
	if ms, _ := f.svc.Roster(ctx, lee, c.ID); len(ms) != 2 {
		t.Errorf("roster has %d members, want 2", len(ms))
	}
	// Another lecturer's class is not found.
	if _, err := f.svc.Import(ctx, class.Who{User: "other"}, c.ID, []byte("E,e@example.com\n")); lab.ErrorCodeOf(err) != lab.ENotFound {
		t.Errorf("another lecturer: %v", err)
	}
	if _, err := f.svc.Roster(ctx, class.Who{User: "admin", Admin: true}, c.ID); err != nil {
		t.Errorf("admin: %v", err)
	}
}

func poolIs(t *testing.T, labs *lab.Service, labID string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, pool := labs.Stats()
		if pool[labID] == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s pool has %d, want %d", labID, pool[labID], n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCapacityReservedForTheWindow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.class(t, 2*time.Hour, 10)
	if _, err := f.svc.Import(ctx, lee, c.ID, []byte("A,a@example.com\nB,b@example.com\nC,c@example.com\n")); err != nil {
		t.Fatal(err)
	}
	poolIs(t, f.labs, "demo", 0) // not yet: the class starts in two hours
	f.clock.Add(2*time.Hour - 10*time.Minute)
	// A restarted labd reserves again from the classes it finds.
	if err := f.svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	poolIs(t, f.labs, "demo", 3) // warmed ahead of the start, one per trainee
	f.clock.Add(9 * time.Hour)
	f.labs.Reap()
	poolIs(t, f.labs, "demo", 0) // given back after the class
}

func TestProgressAndStuck(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.class(t, 0, 10)
	if _, err := f.svc.Import(ctx, lee, c.ID, []byte("Ada,ada@example.com\nBob,bob@example.com\nCy,cy@example.com\n")); err != nil {
		t.Fatal(err)
	}
	f.acc.users["ada@example.com"] = "u-ada"
	f.acc.users["bob@example.com"] = "u-bob"

	start := func(user string) *lab.Session {
		s, _, err := f.labs.Create(ctx, user, "demo")
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		s, err = f.labs.Wait(wctx, lab.Actor{User: user}, s.ID)
		if err != nil || s.State != lab.Ready {
			t.Fatalf("session %v %v", s, err)
		}
		return s
	}
	pass := func(user string, s *lab.Session, step string) {
		f.rt.Exec(ctx, s.ID, "node1", lab.Command{Script: "touch " + step})
		if r, err := f.labs.Check(ctx, lab.Actor{User: user}, s.ID, step); err != nil || !r.Passed {
			t.Fatalf("check %s: %+v %v", step, r, err)
		}
	}
	ada, bob := start("u-ada"), start("u-bob")
	outsider := start("u-outsider")
	pass("u-ada", ada, "one")
	pass("u-ada", ada, "two")
	f.clock.Add(20 * time.Minute)
	pass("u-bob", bob, "one")
	f.clock.Add(16 * time.Minute) // bob: nothing passed for 16 min > 15

	steps := func(string) int { return 2 }
	prog, err := f.svc.Progress(ctx, lee, c.ID, steps)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) != 3 {
		t.Fatalf("%d trainees", len(prog))
	}
	a, b, cy := prog[0], prog[1], prog[2]
	if a.Stuck || len(a.Passed) != 1 || len(a.Sessions) != 1 {
		t.Errorf("ada (finished): stuck %v, passed %v, %d sessions", a.Stuck, a.Passed, len(a.Sessions))
	}
	if !b.Stuck || len(b.Passed) != 0 {
		t.Errorf("bob (no progress for 16 min): stuck %v, passed %v", b.Stuck, b.Passed)
	}
	if cy.User != "" || len(cy.Sessions) != 0 || cy.Stuck {
		t.Errorf("cy (no account yet): %+v", cy)
	}
	for _, p := range prog {
		for _, s := range p.Sessions {
			if s.ID == outsider.ID {
				t.Error("a session of someone outside the class is in its progress")
			}
		}
	}
	trainees, err := f.svc.Trainees(ctx, "lee")
	if err != nil || strings.Join(trainees, ",") != "u-ada,u-bob" {
		t.Errorf("trainees %v %v", trainees, err)
	}
	if _, err := f.svc.Progress(ctx, class.Who{User: "other"}, c.ID, steps); lab.ErrorCodeOf(err) != lab.ENotFound {
		t.Errorf("another lecturer sees the progress: %v", err)
	}
}

// A class's trainees take its reserved environments; others do not. Ending
// the class early releases them: the pool shrinks now, claimed sessions keep
// running, and the class keeps its record with the new end.
func TestReservedForTraineesAndEndEarly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.class(t, 0, 10)
	if _, err := f.svc.Import(ctx, lee, c.ID, []byte("Ada,ada@example.com\nBob,bob@example.com\n")); err != nil {
		t.Fatal(err)
	}
	f.acc.users["ada@example.com"] = "u-ada"
	poolIs(t, f.labs, "demo", 2)

	// A stranger does not take a reserved environment: theirs is made.
	zed, _, err := f.labs.Create(ctx, "u-zed", "demo")
	if err != nil || zed.State != lab.Provisioning {
		t.Fatalf("stranger: %+v %v", zed, err)
	}
	// A trainee does, at once; the pool keeps one for the other trainee.
	ada, _, err := f.labs.Create(ctx, "u-ada", "demo")
	if err != nil || ada.State != lab.Ready || ada.Reservation != c.ID {
		t.Fatalf("trainee: %+v %v", ada, err)
	}
	f.labs.Reap()
	poolIs(t, f.labs, "demo", 1)

	if _, err := f.svc.End(ctx, class.Who{User: "other"}, c.ID); lab.ErrorCodeOf(err) != lab.ENotFound {
		t.Errorf("another lecturer ends the class: %v", err)
	}
	f.clock.Add(time.Hour)
	ended, err := f.svc.End(ctx, lee, c.ID)
	if err != nil || !ended.End.Equal(f.clock.Now()) {
		t.Fatalf("end: %+v %v", ended, err)
	}
	poolIs(t, f.labs, "demo", 0) // released now, not at the window's end
	if s, _ := f.labs.Session(ctx, lab.Actor{User: "u-ada"}, ada.ID); s.State != lab.Ready {
		t.Errorf("trainee's session after the class ended: %s", s.State)
	}
	stored, _ := f.svc.Class(ctx, lee, c.ID)
	if !stored.End.Equal(f.clock.Now()) {
		t.Errorf("stored end %s", stored.End)
	}
	// A restarted labd does not reserve for it again.
	if err := f.svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	poolIs(t, f.labs, "demo", 0)
	// Ending again changes nothing.
	if again, err := f.svc.End(ctx, lee, c.ID); err != nil || !again.End.Equal(ended.End) {
		t.Errorf("end twice: %+v %v", again, err)
	}
}

package lab_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/lab/labtest"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	svc   *lab.Service
	rt    *labtest.Runtime
	db    *sqlite.DB
	clock *clock
}

func newFixture(t *testing.T, cfg lab.Config, rt *labtest.Runtime, db *sqlite.DB) *fixture {
	t.Helper()
	if rt == nil {
		rt = labtest.NewRuntime()
	}
	if db == nil {
		var err error
		db, err = sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "labd.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
	}
	c := &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	cfg.Now = c.Now
	cfg.ReapEvery = time.Hour // tests call Reap themselves
	catalog := lab.NewCatalog(labtest.Lab("demo"), labtest.Lab("other"), labtest.Lab("slow-setup", "exit 3"))
	svc := lab.NewService(cfg, catalog, rt, db)
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	select {
	case <-svc.Recovered():
	case <-time.After(10 * time.Second):
		t.Fatal("recovery did not finish")
	}
	return &fixture{svc: svc, rt: rt, db: db, clock: c}
}

func (f *fixture) ready(t *testing.T, a lab.Actor, labID string) *lab.Session {
	t.Helper()
	s, created, err := f.svc.Create(context.Background(), a.User, labID)
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatalf("Create returned an existing session")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err = f.svc.Wait(ctx, a, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != lab.Ready {
		t.Fatalf("state %s (%s), want ready", s.State, s.Reason)
	}
	return s
}

func code(err error) string { return lab.ErrorCodeOf(err) }

var (
	alice = lab.Actor{User: "alice"}
	bob   = lab.Actor{User: "bob"}
	admin = lab.Actor{User: "root", SeeAll: true}
)

func TestSessionLifecycle(t *testing.T) {
	f := newFixture(t, lab.Config{}, nil, nil)
	ctx := context.Background()
	s := f.ready(t, alice, "demo")
	if len(s.Nodes) != 1 || s.Nodes[0].Address != "10.0.0.2" {
		t.Errorf("nodes = %+v", s.Nodes)
	}
	if !s.Expires.Equal(f.clock.Now().Add(time.Hour)) {
		t.Errorf("expires %s, want now+1h", s.Expires)
	}

	// A check fails with the FAIL: lines only, then passes after the solution.
	r, err := f.svc.Check(ctx, alice, s.ID, "one")
	if err != nil || r.Passed || r.Output != "FAIL: one is missing" || !strings.Contains(r.Detail, "checking") {
		t.Fatalf("check before solution = %+v, %v", r, err)
	}
	f.rt.Exec(ctx, s.ID, "node1", lab.Command{Script: "touch one"})
	if r, err = f.svc.Check(ctx, alice, s.ID, "one"); err != nil || !r.Passed || r.Output != "" {
		t.Fatalf("check after solution = %+v, %v", r, err)
	}
	if _, err := f.svc.Check(ctx, alice, s.ID, "nope"); code(err) != lab.ENotFound {
		t.Errorf("unknown step: %v", err)
	}
	got, _ := f.svc.Session(ctx, alice, s.ID)
	if !got.Steps[0].Passed || got.Steps[1].Passed {
		t.Errorf("step results = %+v", got.Steps)
	}

	// Another user cannot tell the session exists; an admin can.
	for _, call := range []func() error{
		func() error { _, err := f.svc.Session(ctx, bob, s.ID); return err },
		func() error { _, err := f.svc.Check(ctx, bob, s.ID, "one"); return err },
		func() error { _, err := f.svc.Extend(ctx, bob, s.ID); return err },
		func() error { _, err := f.svc.Reset(ctx, bob, s.ID); return err },
		func() error { return f.svc.Destroy(ctx, bob, s.ID) },
	} {
		if err := call(); code(err) != lab.ENotFound {
			t.Errorf("bob touching alice's session: %v, want not_found", err)
		}
	}
	if _, err := f.svc.Session(ctx, admin, s.ID); err != nil {
		t.Errorf("admin: %v", err)
	}
	if list, _ := f.svc.Sessions(ctx, bob, false); len(list) != 0 {
		t.Errorf("bob lists %d sessions", len(list))
	}
	if list, _ := f.svc.Sessions(ctx, alice, false); len(list) != 1 {
		t.Errorf("alice lists %d sessions", len(list))
	}

	// Extend twice (30m each) reaches the 1h limit; a third is refused.
	for i := 1; i <= 2; i++ {
		e, err := f.svc.Extend(ctx, alice, s.ID)
		if err != nil || !e.Expires.Equal(s.Expires.Add(time.Duration(i)*30*time.Minute)) {
			t.Fatalf("extend %d: %v %v", i, e, err)
		}
	}
	if _, err := f.svc.Extend(ctx, alice, s.ID); code(err) != lab.EConflict {
		t.Errorf("third extend: %v, want conflict", err)
	}

	// Reset gives a fresh environment and forgets the results, but not the time limit.
	before, _ := f.svc.Session(ctx, alice, s.ID)
	f.clock.Add(10 * time.Minute)
	if _, err := f.svc.Reset(ctx, alice, s.ID); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, _ = f.svc.Wait(wctx, alice, s.ID)
	if got.State != lab.Ready || got.Steps[0].Passed {
		t.Errorf("after reset: %s, steps %+v", got.State, got.Steps)
	}
	if !got.Expires.Equal(before.Expires) {
		t.Errorf("a reset moved the time limit from %s to %s", before.Expires, got.Expires)
	}
	if r, _ := f.svc.Check(ctx, alice, s.ID, "one"); r.Passed {
		t.Error("a reset environment still has the solution's work")
	}

	// Destroy ends it; the environment is gone; actions answer conflict.
	if err := f.svc.Destroy(ctx, alice, s.ID); err != nil {
		t.Fatal(err)
	}
	if f.rt.Count() != 0 {
		t.Errorf("%d environments left", f.rt.Count())
	}
	got, err = f.svc.Session(ctx, alice, s.ID)
	if err != nil || got.State != lab.Ended || got.Reason != "ended by the user" {
		t.Errorf("after destroy: %+v %v", got, err)
	}
	if _, err := f.svc.Check(ctx, alice, s.ID, "one"); code(err) != lab.EConflict ||
		!strings.Contains(err.Error(), "has ended") {
		t.Errorf("check on ended session: %v", err)
	}
	if err := f.svc.Destroy(ctx, alice, s.ID); code(err) != lab.EConflict {
		t.Errorf("destroy twice: %v", err)
	}
}

func TestLimits(t *testing.T) {
	f := newFixture(t, lab.Config{MaxPerUser: 2, MaxSessions: 3}, nil, nil)
	ctx := context.Background()
	a1 := f.ready(t, alice, "demo")

	// The same lab again gives back the live session.
	again, created, err := f.svc.Create(ctx, "alice", "demo")
	if err != nil || created || again.ID != a1.ID {
		t.Errorf("second create of the same lab = %v %v %v", again, created, err)
	}
	f.ready(t, alice, "other")
	_, _, err = f.svc.Create(ctx, "alice", "slow-setup")
	var le *lab.Error
	if !errors.As(err, &le) || le.Code != lab.ELimit || !strings.Contains(le.Message, "already have 2") {
		t.Errorf("per-user limit: %v", err)
	}
	// Retry-After: when alice's first session ends by itself (idle, 20m).
	if le == nil || le.RetryAfter != 20*time.Minute {
		t.Errorf("per-user limit: retry after %v, want 20m", le)
	}
	f.ready(t, bob, "demo")
	// Over the global limit: a place in line, not an error.
	q, created, err := f.svc.Create(ctx, "carol", "demo")
	if err != nil || !created || q.State != lab.Queued || q.Queue == nil || q.Queue.Position != 1 {
		t.Errorf("global limit: %+v %v", q, err)
	}
	if _, _, err := f.svc.Create(ctx, "carol", "nope"); code(err) != lab.ENotFound {
		t.Errorf("unknown lab: %v", err)
	}
}

func TestFailedProvisionLeavesNothing(t *testing.T) {
	rt := labtest.NewRuntime()
	rt.FailLab = "other"
	f := newFixture(t, lab.Config{}, rt, nil)
	ctx := context.Background()
	for _, labID := range []string{"other", "slow-setup"} {
		s, _, err := f.svc.Create(ctx, "alice", labID)
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, err = f.svc.Wait(wctx, alice, s.ID)
		cancel()
		if err != nil || s.State != lab.Failed || s.Reason == "" {
			t.Fatalf("%s: %+v %v", labID, s, err)
		}
		t.Logf("%s failed: %s", labID, s.Reason)
		if _, err := f.svc.Check(ctx, alice, s.ID, "one"); code(err) != lab.EConflict {
			t.Errorf("check on failed session: %v", err)
		}
	}
	if f.rt.Count() != 0 {
		t.Errorf("%d environments left after failed provisioning", f.rt.Count())
	}
	// Failed sessions do not count against the user's limit.
	f.ready(t, alice, "demo")
}

func TestReaper(t *testing.T) {
	f := newFixture(t, lab.Config{}, nil, nil)
	ctx := context.Background()
	expiring := f.ready(t, alice, "demo")
	idle := f.ready(t, bob, "demo")
	busy := f.ready(t, lab.Actor{User: "carol"}, "demo")

	f.clock.Add(19 * time.Minute)
	f.svc.Touch(busy.ID)
	f.svc.Check(ctx, alice, expiring.ID, "one") // activity
	f.clock.Add(2 * time.Minute)
	f.svc.Reap()
	if s, _ := f.svc.Session(ctx, bob, idle.ID); s.State != lab.Ended || !strings.Contains(s.Reason, "idle") {
		t.Errorf("idle session: %s %q", s.State, s.Reason)
	}
	for _, id := range []string{expiring.ID, busy.ID} {
		if s, _ := f.svc.Session(ctx, admin, id); s.State != lab.Ready {
			t.Errorf("active session %s ended early: %s", id, s.Reason)
		}
	}
	for range 4 { // keep alice active until past her hour
		f.clock.Add(10 * time.Minute)
		f.svc.Touch(expiring.ID)
	}
	f.svc.Reap()
	if s, _ := f.svc.Session(ctx, alice, expiring.ID); s.State != lab.Ended || s.Reason != "time limit reached" {
		t.Errorf("expired session: %s %q", s.State, s.Reason)
	}
}

func TestWarmPool(t *testing.T) {
	f := newFixture(t, lab.Config{WarmPool: map[string]int{"demo": 2}}, nil, nil)
	ctx := context.Background()
	waitPool := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, pool := f.svc.Stats()
			if pool["demo"] == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("pool has %d, want %d", pool["demo"], n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitPool(2)
	// Pool sessions are nobody's: an admin sees them, marked; users do not.
	if list, _ := f.svc.Sessions(ctx, admin, true); len(list) != 2 || !list[0].Pool() || !list[1].Pool() {
		t.Errorf("admin lists %d sessions, want the 2 pool sessions", len(list))
	}
	if list, _ := f.svc.Sessions(ctx, alice, true); len(list) != 0 {
		t.Errorf("alice lists %d sessions, want none", len(list))
	}
	s, created, err := f.svc.Create(ctx, "alice", "demo")
	if err != nil || !created || s.State != lab.Ready || s.Owner != "alice" {
		t.Fatalf("claim = %+v %v %v", s, created, err)
	}
	if !s.Expires.Equal(f.clock.Now().Add(time.Hour)) {
		t.Errorf("claimed session expires %s", s.Expires)
	}
	waitPool(2) // refilled
	if f.rt.Count() != 3 {
		t.Errorf("%d environments, want 3", f.rt.Count())
	}
	stored, _ := f.db.Session(ctx, s.ID)
	if stored.Owner != "alice" {
		t.Errorf("stored owner %q", stored.Owner)
	}
	// Pool sessions never time out waiting.
	f.clock.Add(24 * time.Hour)
	f.svc.Reap()
	_, pool := f.svc.Stats()
	if pool["demo"] != 2 {
		t.Errorf("pool after a day: %d", pool["demo"])
	}
}

func TestRecovery(t *testing.T) {
	rt := labtest.NewRuntime()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()

	first := newFixture(t, lab.Config{WarmPool: map[string]int{"other": 1}, StopGrace: 50 * time.Millisecond}, rt, db)
	kept := first.ready(t, alice, "demo")
	first.svc.Check(ctx, alice, kept.ID, "one")
	rt.Exec(ctx, kept.ID, "node1", lab.Command{Script: "touch two"})
	first.svc.Check(ctx, alice, kept.ID, "two")
	lost := first.ready(t, bob, "demo")
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, pool := first.svc.Stats(); pool["other"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the pool did not fill")
		}
		time.Sleep(time.Millisecond)
	}
	// A session caught provisioning by the crash.
	rt.Gate = make(chan struct{})
	stuck, _, _ := first.svc.Create(ctx, "carol", "demo")
	first.svc.Close() // the crash: nothing is ended
	rt.Gate = nil
	// The lost session's containers vanished while labd was down, and an
	// orphan appeared that no store knows.
	rt.Destroy(ctx, lost.ID)
	rt.Create(ctx, lab.EnvSpec{Session: "orphan", Lab: "demo", Nodes: []lab.Node{{Name: "node1"}}})

	second := newFixture(t, lab.Config{WarmPool: map[string]int{"other": 1}}, rt, db)
	s, err := second.svc.Session(ctx, alice, kept.ID)
	if err != nil || s.State != lab.Ready {
		t.Fatalf("kept session after restart: %+v %v", s, err)
	}
	if !s.Steps[1].Passed {
		t.Errorf("step results lost in recovery: %+v", s.Steps)
	}
	if r, err := second.svc.Check(ctx, alice, kept.ID, "two"); err != nil || !r.Passed {
		t.Errorf("check on adopted session: %+v %v", r, err)
	}
	if s, _ := second.svc.Session(ctx, bob, lost.ID); s.State != lab.Ended || !strings.Contains(s.Reason, "lost") {
		t.Errorf("lost session: %s %q", s.State, s.Reason)
	}
	// The session caught provisioning is provisioned again, same id.
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if s, _ := second.svc.Wait(wctx, lab.Actor{User: "carol"}, stuck.ID); s.State != lab.Ready {
		t.Errorf("session caught provisioning: %s %q, want ready", s.State, s.Reason)
	}
	ids, _ := rt.Sessions(ctx)
	if slices.Contains(ids, "orphan") || !slices.Contains(ids, stuck.ID) {
		t.Errorf("runtime has %v", ids)
	}
	// The pool session from before is adopted, not duplicated.
	_, pool := second.svc.Stats()
	if pool["other"] != 1 || len(ids) != 3 {
		t.Errorf("pool %d, runtime sessions %v (want the kept one, carol's and one pool session)", pool["other"], ids)
	}
}

func TestFaultsAtStepEntry(t *testing.T) {
	rt := labtest.NewRuntime()
	f := newFixture(t, lab.Config{}, rt, nil)
	def := labtest.Lab("faulty")
	def.Steps[0].Faults = []lab.Fault{{Node: "node1", Script: "broken.sh", Body: "touch broken"}}
	def.Steps[1].Faults = []lab.Fault{{Node: "node1", Action: "disconnect"}}
	svc := lab.NewService(lab.Config{Now: f.clock.Now, ReapEvery: time.Hour}, lab.NewCatalog(def), rt, f.db)
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	<-svc.Recovered()
	ctx := context.Background()
	s, _, _ := svc.Create(ctx, "alice", "faulty")
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, _ = svc.Wait(wctx, alice, s.ID)
	// The first step's fault happened before the session was ready.
	if res, _ := rt.Exec(ctx, s.ID, "node1", lab.Command{Script: "test broken"}); res.ExitCode != 0 {
		t.Error("the first step's fault was not applied at ready")
	}
	if len(rt.Faulted) != 0 {
		t.Fatalf("faults of a later step applied early: %v", rt.Faulted)
	}
	rt.Exec(ctx, s.ID, "node1", lab.Command{Script: "touch one"})
	for range 2 { // passing twice enters the next step once
		if r, _ := svc.Check(ctx, alice, s.ID, "one"); !r.Passed {
			t.Fatal("step one does not pass")
		}
	}
	if len(rt.Faulted) != 1 || rt.Faulted[0] != s.ID+"/node1/disconnect" {
		t.Errorf("faults = %v, want one disconnect of node1", rt.Faulted)
	}
	// A lecturer's fault; a bad action and a bad node are refused.
	lena := lab.Actor{User: "lena", SeeAll: true}
	if err := svc.InjectFault(ctx, lena, s.ID, lab.Fault{Node: "node1", Action: "kill"}); err != nil {
		t.Error(err)
	}
	for _, bad := range []lab.Fault{
		{Node: "node1", Action: "explode"},
		{Node: "node1", Action: "fill", Path: "relative", Size: 1 << 20},
		{Node: "node1", Action: "fill", Path: "/var", Size: lab.MaxFill + 1},
		{Node: "node1", Action: "kill", Path: "/var"},
	} {
		if err := svc.InjectFault(ctx, lena, s.ID, bad); code(err) != lab.EInvalid {
			t.Errorf("%+v: %v, want invalid", bad, err)
		}
	}
	if err := svc.InjectFault(ctx, lena, s.ID, lab.Fault{Node: "node9", Action: "kill"}); code(err) != lab.ENotFound {
		t.Errorf("bad node: %v", err)
	}
	if err := svc.InjectFault(ctx, bob, s.ID, lab.Fault{Node: "node1", Action: "kill"}); code(err) != lab.ENotFound {
		t.Errorf("another trainee: %v", err)
	}
}

func TestReservation(t *testing.T) {
	f := newFixture(t, lab.Config{WarmPool: map[string]int{"demo": 1}}, nil, nil)
	poolIs := func(labID string, n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, pool := f.svc.Stats()
			if pool[labID] == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s pool has %d, want %d", labID, pool[labID], n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	poolIs("demo", 1)
	now := f.clock.Now()
	class := lab.Reservation{Key: "class-1", Lab: "demo", Size: 3, From: now.Add(-time.Minute), Until: now.Add(time.Hour)}
	if err := f.svc.Reserve(class); err != nil {
		t.Fatal(err)
	}
	poolIs("demo", 4) // configured 1 + reserved 3
	later := lab.Reservation{Key: "class-2", Lab: "other", Size: 2, From: now.Add(2 * time.Hour), Until: now.Add(3 * time.Hour)}
	if err := f.svc.Reserve(later); err != nil {
		t.Fatal(err)
	}
	poolIs("other", 0) // its window has not opened

	// The first window closes: the pool gives back what was reserved.
	f.clock.Add(90 * time.Minute)
	f.svc.Reap()
	poolIs("demo", 1)
	// The second opens.
	f.clock.Add(time.Hour)
	f.svc.Reserve(later)
	poolIs("other", 2)
	// Cancelled.
	later.Size = 0
	f.svc.Reserve(later)
	f.svc.Reap()
	poolIs("other", 0)

	for _, bad := range []lab.Reservation{
		{Key: "k", Lab: "nope", Size: 1, From: now, Until: now.Add(time.Hour)},
		{Key: "k", Lab: "demo", Size: -1, From: now, Until: now.Add(time.Hour)},
		{Key: "k", Lab: "demo", Size: 1, From: now, Until: now},
	} {
		if err := f.svc.Reserve(bad); err == nil {
			t.Errorf("Reserve(%+v) accepted", bad)
		}
	}
}

func TestOversees(t *testing.T) {
	f := newFixture(t, lab.Config{}, nil, nil)
	ctx := context.Background()
	trainee := lab.Actor{User: "tina"}
	s := f.ready(t, trainee, "demo")
	other := f.ready(t, lab.Actor{User: "otto"}, "demo")
	lecturer := lab.Actor{User: "lee", Oversees: []string{"tina"}}
	if _, err := f.svc.Session(ctx, lecturer, s.ID); err != nil {
		t.Errorf("a lecturer cannot see their trainee's session: %v", err)
	}
	if _, err := f.svc.Session(ctx, lecturer, other.ID); err == nil {
		t.Error("a lecturer sees the session of someone outside their classes")
	}
	list, err := f.svc.Sessions(ctx, lecturer, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != s.ID {
		t.Errorf("the lecturer's list has %d sessions, want only the trainee's", len(list))
	}
}

package lab_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/lab/labtest"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// waitFor polls cond (the reaper, provisioning run in the background) for
// at most 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (f *fixture) state(t *testing.T, a lab.Actor, id string) *lab.Session {
	t.Helper()
	s, err := f.svc.Session(context.Background(), a, id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A destroy that fails (or hangs past DestroyTimeout) leaves the session
// ended with its environment left: it still holds its place under
// MaxSessions, the next session queues, and the reaper retries until the
// environment is gone; then the queued session starts by itself.
func TestDestroyRetriedAndCapacityHeld(t *testing.T) {
	for _, hang := range []bool{false, true} {
		name := map[bool]string{false: "fails", true: "hangs"}[hang]
		t.Run(name, func(t *testing.T) {
			rt := labtest.NewRuntime()
			f := newFixture(t, lab.Config{MaxSessions: 1, DestroyTimeout: 20 * time.Millisecond}, rt, nil)
			ctx := context.Background()
			s := f.ready(t, alice, "demo")
			rt.SetDestroyFails(true, hang)
			if err := f.svc.Destroy(ctx, alice, s.ID); err != nil {
				t.Fatal(err)
			}
			ended := f.state(t, alice, s.ID)
			if ended.State != lab.Ended || !ended.EnvLeft || !rt.Has(s.ID) {
				t.Fatalf("after a failed destroy: %s env_left=%v, environment there %v", ended.State, ended.EnvLeft, rt.Has(s.ID))
			}
			if byState, _ := f.svc.Stats(); byState["ending"] != 1 {
				t.Errorf("stats: %v, want one ending", byState)
			}
			// An admin sees it among the live ones: it holds capacity.
			list, _ := f.svc.Sessions(ctx, admin, true)
			if len(list) != 1 || list[0].ID != s.ID || !list[0].EnvLeft {
				t.Errorf("admin's live list: %+v", list)
			}
			// The capacity is not free: bob queues.
			q, _, err := f.svc.Create(ctx, "bob", "demo")
			if err != nil || q.State != lab.Queued {
				t.Fatalf("bob: %+v %v, want queued", q, err)
			}
			// The reaper retries with backoff: not before it is due.
			attempts := rt.Attempts()
			f.svc.Reap()
			lab.RetryDoomed(f.svc)
			if rt.Attempts() != attempts {
				t.Errorf("retried before the backoff: %d attempts, had %d", rt.Attempts(), attempts)
			}
			f.clock.Add(6 * time.Second)
			lab.RetryDoomed(f.svc)
			if rt.Attempts() != attempts+1 || !rt.Has(s.ID) {
				t.Errorf("second attempt: %d attempts, had %d", rt.Attempts(), attempts)
			}
			if f.state(t, bob, q.ID).State != lab.Queued {
				t.Error("bob started while the environment is still there")
			}
			// The daemon recovers: the next due attempt removes it.
			rt.SetDestroyFails(false, false)
			f.clock.Add(11 * time.Second)
			lab.RetryDoomed(f.svc)
			if rt.Has(s.ID) || f.state(t, alice, s.ID).EnvLeft {
				t.Fatalf("after the retry succeeded: environment there %v, env_left %v", rt.Has(s.ID), f.state(t, alice, s.ID).EnvLeft)
			}
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			waitFor(t, "bob's session to be ready", func() bool {
				got, _ := f.svc.Wait(wctx, bob, q.ID)
				return got.State == lab.Ready
			})
		})
	}
}

// The line: first come, first served; a place and an estimate from the
// sessions in use (their idle timeouts here); leaving it moves the others
// up; a restart keeps it.
func TestQueue(t *testing.T) {
	rt := labtest.NewRuntime()
	db := openDB(t)
	f := newFixture(t, lab.Config{MaxSessions: 2, StopGrace: time.Millisecond}, rt, db)
	ctx := context.Background()
	a := f.ready(t, alice, "demo")
	f.clock.Add(5 * time.Minute)
	f.ready(t, bob, "demo") // bob's idles out 5 minutes after alice's
	var line []*lab.Session
	for _, u := range []string{"carol", "dave", "erin"} {
		s, created, err := f.svc.Create(ctx, u, "demo")
		if err != nil || !created || s.State != lab.Queued {
			t.Fatalf("%s: %+v %v", u, s, err)
		}
		line = append(line, s)
	}
	for i, s := range line {
		if s.Queue.Position != i+1 {
			t.Errorf("%s at %d, want %d", s.Owner, s.Queue.Position, i+1)
		}
	}
	// alice's ends by idling in 15 minutes, bob's in 20 (20m idle timeout),
	// plus provisioning (30s before any is measured... the fake's is 0).
	if e := line[0].Queue.Estimate; e < 15*time.Minute || e > 15*time.Minute+30*time.Second {
		t.Errorf("carol's estimate %s, want about 15m", e)
	}
	if e := line[1].Queue.Estimate; e < 20*time.Minute || e > 20*time.Minute+30*time.Second {
		t.Errorf("dave's estimate %s, want about 20m", e)
	}
	// Queued sessions cannot be worked in.
	if _, err := f.svc.Check(ctx, lab.Actor{User: "carol"}, line[0].ID, "one"); code(err) != lab.EConflict {
		t.Errorf("check while queued: %v", err)
	}
	// dave leaves the line; erin moves up.
	if err := f.svc.Destroy(ctx, lab.Actor{User: "dave"}, line[1].ID); err != nil {
		t.Fatal(err)
	}
	if s := f.state(t, lab.Actor{User: "erin"}, line[2].ID); s.Queue == nil || s.Queue.Position != 2 {
		t.Errorf("erin after dave left: %+v", s.Queue)
	}
	// A restart keeps the line.
	f.svc.Close()
	g := newFixture(t, lab.Config{MaxSessions: 2}, rt, db)
	g.clock.Add(f.clock.Now().Sub(g.clock.Now()))
	if s := g.state(t, lab.Actor{User: "erin"}, line[2].ID); s.State != lab.Queued || s.Queue.Position != 2 {
		t.Errorf("erin after a restart: %s %+v", s.State, s.Queue)
	}
	// alice ends: carol starts by itself, erin is next.
	if err := g.svc.Destroy(ctx, alice, a.ID); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if s, _ := g.svc.Wait(wctx, lab.Actor{User: "carol"}, line[0].ID); s.State != lab.Provisioning && s.State != lab.Ready {
		t.Errorf("carol after alice ended: %s", s.State)
	}
	if s := g.state(t, lab.Actor{User: "erin"}, line[2].ID); s.Queue == nil || s.Queue.Position != 1 {
		t.Errorf("erin after carol started: %+v", s.Queue)
	}
}

// A class's reserved environments are not given to the line: a trainee
// takes a reserved place ahead of the line; a place the class still holds
// is made for it, not given to the first in line.
func TestReservedCapacityNotGivenToTheLine(t *testing.T) {
	f := newFixture(t, lab.Config{MaxSessions: 2}, nil, nil)
	ctx := context.Background()
	now := f.clock.Now()
	a := f.ready(t, alice, "demo")
	b := f.ready(t, bob, "demo")
	carol := lab.Actor{User: "carol"}
	c, _, _ := f.svc.Create(ctx, carol.User, "demo")
	if c.State != lab.Queued {
		t.Fatalf("carol: %s, want queued", c.State)
	}
	trainees := func(_ context.Context, u string) bool { return u == "tess" || u == "tom" }
	if err := f.svc.Reserve(lab.Reservation{Key: "cls", Lab: "demo", Size: 2, From: now, Until: now.Add(time.Hour), Holds: trainees}); err != nil {
		t.Fatal(err)
	}
	tess := lab.Actor{User: "tess"}
	ts, _, _ := f.svc.Create(ctx, tess.User, "demo")
	if ts.State != lab.Queued || ts.Reservation != "cls" {
		t.Fatalf("tess with everything in use: %s %q", ts.State, ts.Reservation)
	}
	// A place frees: it is tess's, though carol was first.
	f.svc.Destroy(ctx, alice, a.ID)
	if s := f.state(t, tess, ts.ID); s.State == lab.Queued {
		t.Errorf("tess still queued after a place freed")
	}
	if s := f.state(t, carol, c.ID); s.State != lab.Queued {
		t.Errorf("carol %s, want still queued", s.State)
	}
	// Another frees: the class still holds tom's place, so it makes his
	// environment; carol waits on.
	f.svc.Destroy(ctx, bob, b.ID)
	waitFor(t, "tom's reserved environment", func() bool { _, p := f.svc.Stats(); return p["demo"] == 1 })
	if s := f.state(t, carol, c.ID); s.State != lab.Queued {
		t.Errorf("carol %s, want queued behind the reservation", s.State)
	}
	// A stranger does not take it; tom does.
	if s, _, _ := f.svc.Create(ctx, "zed", "demo"); s.State != lab.Queued {
		t.Errorf("zed: %s, want queued", s.State)
	}
	if s, _, _ := f.svc.Create(ctx, "tom", "demo"); s.State != lab.Ready || s.Reservation != "cls" {
		t.Errorf("tom: %s %q, want ready from the reserved pool", s.State, s.Reservation)
	}
}

// Recovery runs in the background: Start returns while the runtime does not
// answer, Ping says not ready, a session created meanwhile queues and starts
// once recovery is done.
func TestRecoveryDoesNotBlock(t *testing.T) {
	rt := labtest.NewRuntime()
	rt.SessionsGate = make(chan struct{})
	catalog := lab.NewCatalog(labtest.Lab("demo"))
	svc := lab.NewService(lab.Config{ReapEvery: time.Hour}, catalog, rt, openDB(t))
	started := make(chan error, 1)
	go func() { started <- svc.Start(context.Background()) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Start blocked on the runtime")
	}
	defer svc.Close()
	ctx := context.Background()
	if err := svc.Ping(ctx); err == nil {
		t.Error("ready while recovering")
	}
	s, _, err := svc.Create(ctx, "alice", "demo")
	if err != nil || s.State != lab.Queued {
		t.Fatalf("create while recovering: %+v %v", s, err)
	}
	// Someone waits on it (the lab page's ?wait=) across the end of recovery.
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	waited := make(chan *lab.Session, 1)
	go func() {
		got, _ := svc.Wait(wctx, alice, s.ID)
		waited <- got
	}()
	waitFor(t, "the waiter", func() bool { return lab.Waiters(svc, s.ID) })
	close(rt.SessionsGate)
	<-svc.Recovered()
	if err := svc.Ping(ctx); err != nil {
		t.Errorf("not ready after recovery: %v", err)
	}
	if got := <-waited; got == nil || got.State == lab.Queued {
		t.Fatalf("the waiter was not told the session started: %+v", got)
	}
	waitFor(t, "the session to be ready", func() bool {
		got, _ := svc.Wait(wctx, alice, s.ID)
		return got.State == lab.Ready
	})
}

// A reset whose old environment cannot be removed fails the session and
// leaves the environment to the reaper; it still holds its place.
func TestResetWhenTheOldEnvironmentStays(t *testing.T) {
	rt := labtest.NewRuntime()
	f := newFixture(t, lab.Config{MaxSessions: 1}, rt, nil)
	ctx := context.Background()
	s := f.ready(t, alice, "demo")
	rt.SetDestroyFails(true, false)
	attempts := rt.Attempts()
	if _, err := f.svc.Reset(ctx, alice, s.ID); code(err) != lab.EConflict {
		t.Fatalf("reset: %v, want a conflict", err)
	}
	if rt.Attempts() != attempts+1 {
		t.Errorf("%d removal attempts during the reset, want 1", rt.Attempts()-attempts)
	}
	got := f.state(t, alice, s.ID)
	if got.State != lab.Failed || !got.EnvLeft {
		t.Errorf("after the reset: %s env_left=%v", got.State, got.EnvLeft)
	}
	if q, _, _ := f.svc.Create(ctx, "bob", "demo"); q.State != lab.Queued {
		t.Errorf("bob: %s, want queued behind the environment left", q.State)
	}
}

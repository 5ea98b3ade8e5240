package lab_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/lab/labtest"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

// countingRuntime counts the scripts it runs.
type countingRuntime struct {
	*labtest.Runtime
	mu  sync.Mutex
	ran map[string]int
}

func (c *countingRuntime) Exec(ctx context.Context, session, node string, cmd lab.Command) (lab.Result, error) {
	c.mu.Lock()
	c.ran[cmd.Script]++
	c.mu.Unlock()
	return c.Runtime.Exec(ctx, session, node, cmd)
}

func (c *countingRuntime) runs(script string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ran[script]
}

// enteringLab has an on_enter on each step, a failing one on a third, and
// foregrounds on the lab and its second step.
func enteringLab() *lab.Definition {
	d := labtest.Lab("entering")
	d.Steps = append(d.Steps, lab.Step{ID: "three", Title: lab.Text{ZH: "三", EN: "three"},
		Check: lab.Check{Node: "node1", Body: "test three", Timeout: lab.Duration(time.Second)}, Solution: lab.Solution{Node: "node1", Body: "touch three"}})
	minute := lab.Duration(time.Minute)
	d.Steps[0].OnEnter = []lab.Script{{Node: "node1", Body: "touch entered-one", Timeout: minute}}
	d.Steps[1].OnEnter = []lab.Script{{Nodes: []string{"node1"}, Body: "touch entered-two", Timeout: minute}}
	d.Steps[1].Foreground = lab.Foreground{Node: "node1", Body: "#!/bin/sh\nls /tmp\n"}
	d.Steps[2].OnEnter = []lab.Script{{Node: "node1", Body: "exit 3", Timeout: minute}}
	d.Foreground = lab.Foreground{Node: "node1", Body: "cd /root"}
	return d
}

func startService(t *testing.T, rt lab.Runtime, db *sqlite.DB, defs ...*lab.Definition) *lab.Service {
	t.Helper()
	svc := lab.NewService(lab.Config{ReapEvery: time.Hour}, lab.NewCatalog(defs...), rt, db)
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc
}

func waitReady(t *testing.T, svc *lab.Service, a lab.Actor, id string) *lab.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		// Wait returns on each change of state: queued (while recovery
		// runs), provisioning, then ready.
		s, err := svc.Wait(ctx, a, id)
		switch {
		case err == nil && s.State == lab.Ready:
			return s
		case err != nil || ctx.Err() != nil || (s.State != lab.Queued && s.State != lab.Provisioning):
			t.Fatalf("session %s: %+v %v", id, s, err)
		}
	}
}

func commands(f *lab.Foreground) []string {
	if f == nil {
		return nil
	}
	return append([]string{f.Node}, f.Commands()...)
}

func TestEnterStep(t *testing.T) {
	ctx := context.Background()
	rt := &countingRuntime{Runtime: labtest.NewRuntime(), ran: map[string]int{}}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	def := enteringLab()
	svc := startService(t, rt, db, def)
	s, _, err := svc.Create(ctx, "alice", "entering")
	if err != nil {
		t.Fatal(err)
	}
	s = waitReady(t, svc, alice, s.ID)
	// The first step is entered when the session becomes ready.
	if rt.runs("touch entered-one") != 1 || rt.runs("touch entered-two") != 0 {
		t.Fatalf("at ready: ran %v", rt.ran)
	}

	enter := func(svc *lab.Service, step string) (lab.Entered, error) {
		return svc.Enter(ctx, alice, s.ID, step)
	}
	// Opening the first step: the lab's foreground, once; no step foreground.
	e, err := enter(svc, "one")
	if err != nil || !slices.Equal(commands(e.Lab), []string{"node1", "cd /root"}) || e.Step != nil {
		t.Fatalf("enter one: %+v %v", e, err)
	}
	if rt.runs("touch entered-one") != 1 {
		t.Errorf("the first step's on_enter ran again: %v", rt.ran)
	}
	// The second step: its on_enter runs once, its foreground comes once.
	for i := range 3 {
		e, err := enter(svc, "two")
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"node1", "ls /tmp"}; i == 0 && !slices.Equal(commands(e.Step), want) || i > 0 && e.Step != nil || e.Lab != nil {
			t.Errorf("enter two, #%d: lab %v step %v", i+1, commands(e.Lab), commands(e.Step))
		}
	}
	if n := rt.runs("touch entered-two"); n != 1 {
		t.Errorf("on_enter of two ran %d times, want 1", n)
	}
	if r, _ := svc.Check(ctx, alice, s.ID, "one"); r.Passed {
		t.Fatal("the fake runtime's step one passes unsolved")
	}
	// A failing on_enter is an error, and is tried again next time.
	for range 2 {
		if _, err := enter(svc, "three"); err == nil {
			t.Error("a failing on_enter entered the step")
		}
	}
	if n := rt.runs("exit 3"); n != 2 {
		t.Errorf("failing on_enter ran %d times, want 2 (once per try)", n)
	}
	// Not yours, no such step.
	if _, err := svc.Enter(ctx, bob, s.ID, "two"); code(err) != lab.ENotFound {
		t.Errorf("bob enters alice's step: %v", err)
	}
	if _, err := enter(svc, "nine"); code(err) != lab.ENotFound {
		t.Errorf("no such step: %v", err)
	}

	// A restarted labd knows what was entered: nothing runs or is typed again.
	svc.Close()
	second := startService(t, rt, db, def)
	for _, step := range []string{"one", "two"} {
		if e, err := enter(second, step); err != nil || e.Lab != nil || e.Step != nil {
			t.Errorf("after restart, enter %s: %+v %v", step, e, err)
		}
	}
	if rt.runs("touch entered-one") != 1 || rt.runs("touch entered-two") != 1 {
		t.Errorf("after restart: ran %v", rt.ran)
	}

	// A reset makes a new environment: everything is entered afresh.
	if _, err := second.Reset(ctx, alice, s.ID); err != nil {
		t.Fatal(err)
	}
	waitReady(t, second, alice, s.ID)
	if e, err := enter(second, "two"); err != nil || e.Lab == nil || e.Step == nil {
		t.Errorf("after reset, enter two: %+v %v", e, err)
	}
	if rt.runs("touch entered-one") != 2 || rt.runs("touch entered-two") != 2 {
		t.Errorf("after reset: ran %v", rt.ran)
	}
	// An ended session has no steps to enter.
	second.Destroy(ctx, alice, s.ID)
	if _, err := enter(second, "two"); code(err) != lab.EConflict {
		t.Errorf("enter an ended session: %v", err)
	}
}

func TestEnterFirstStepFailsTheSession(t *testing.T) {
	ctx := context.Background()
	def := enteringLab()
	def.Steps[0].OnEnter[0].Body = "exit 3"
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rt := labtest.NewRuntime()
	svc := startService(t, rt, db, def)
	s, _, _ := svc.Create(ctx, "alice", "entering")
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for s.State == lab.Queued || s.State == lab.Provisioning { // Wait returns on each change
		if s, err = svc.Wait(wctx, alice, s.ID); err != nil || wctx.Err() != nil {
			t.Fatalf("waiting: %v %v", err, wctx.Err())
		}
	}
	if s.State != lab.Failed || rt.Count() != 0 {
		t.Errorf("a failing first on_enter: session %s %q, %d environments left", s.State, s.Reason, rt.Count())
	}
}

// TestEnterConcurrently: a page opened twice at once enters a step once.
func TestEnterConcurrently(t *testing.T) {
	ctx := context.Background()
	rt := &countingRuntime{Runtime: labtest.NewRuntime(), ran: map[string]int{}}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := startService(t, rt, db, enteringLab())
	s, _, _ := svc.Create(ctx, "alice", "entering")
	waitReady(t, svc, alice, s.ID)
	var wg sync.WaitGroup
	var mu sync.Mutex
	typed := 0
	for range 8 {
		wg.Go(func() {
			e, err := svc.Enter(ctx, alice, s.ID, "two")
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			if e.Step != nil {
				typed++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if n := rt.runs("touch entered-two"); n != 1 || typed != 1 {
		t.Errorf("8 enters at once: on_enter ran %d times, the foreground came %d times; want 1 and 1", n, typed)
	}
}

package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

func TestSessionRoundTrip(t *testing.T) { forEachDB(t, testSessionRoundTrip) }

func testSessionRoundTrip(t *testing.T, dsn string) {
	ctx := context.Background()
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(time.Now().UnixMilli())
	s := &lab.Session{ID: "s1", Lab: "demo", Owner: "alice", State: lab.Ready, Created: now, Ready: now,
		Expires: now.Add(time.Hour), Extended: 30 * time.Minute, Activity: now,
		Nodes: []lab.NodeAddr{{Name: "node1", Container: "c1", Address: "10.0.0.2"}, {Name: "node2", Container: "c2", Address: "10.0.0.3"}}}
	if err := db.SaveSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveStepResult(ctx, "s1", lab.StepResult{Step: "one", Passed: true, Output: "", Detail: "ok", Checked: now, Duration: 42 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	db.SaveSession(ctx, &lab.Session{ID: "s2", Lab: "demo", Owner: "bob", State: lab.Ended, Created: now.Add(time.Second)})
	db.Close()

	// Reopening migrates nothing twice and finds everything.
	db, err = Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Session(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Owner != "alice" || got.State != lab.Ready || !got.Expires.Equal(s.Expires) || got.Extended != s.Extended ||
		len(got.Nodes) != 2 || got.Nodes[1] != s.Nodes[1] || len(got.Steps) != 1 || got.Steps[0].Duration != 42*time.Millisecond {
		t.Errorf("got %+v", got)
	}
	live, _ := db.Sessions(ctx, lab.Filter{Live: true})
	all, _ := db.Sessions(ctx, lab.Filter{})
	bobs, _ := db.Sessions(ctx, lab.Filter{Owner: "bob"})
	if len(live) != 1 || len(all) != 2 || all[0].ID != "s2" || len(bobs) != 1 {
		t.Errorf("live %d, all %d (first %s), bob %d", len(live), len(all), all[0].ID, len(bobs))
	}
	if none, err := db.Session(ctx, "nope"); none != nil || err != nil {
		t.Errorf("missing session: %v %v", none, err)
	}
	// Saving again replaces the nodes; clearing forgets the steps.
	s.Nodes = s.Nodes[:1]
	db.SaveSession(ctx, s)
	db.ClearStepResults(ctx, "s1")
	got, _ = db.Session(ctx, "s1")
	if len(got.Nodes) != 1 || len(got.Steps) != 0 {
		t.Errorf("after update: %+v", got)
	}
}

// Queued sessions are live (a restart keeps the line); a claimed
// reservation and an environment left behind survive a round trip.
func TestSessionQueueAndLeftovers(t *testing.T) { forEachDB(t, testSessionQueueAndLeftovers) }

func testSessionQueueAndLeftovers(t *testing.T, dsn string) {
	ctx := context.Background()
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.UnixMilli(time.Now().UnixMilli())
	for _, s := range []*lab.Session{
		{ID: "q", Lab: "demo", Owner: "alice", State: lab.Queued, Created: now},
		{ID: "c", Lab: "demo", Owner: "bob", State: lab.Ready, Created: now, Reservation: "cls-1"},
		{ID: "e", Lab: "demo", Owner: "carol", State: lab.Ended, Created: now, EnvLeft: true},
	} {
		if err := db.SaveSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	live, err := db.Sessions(ctx, lab.Filter{Live: true})
	if err != nil || len(live) != 2 {
		t.Fatalf("live: %d %v, want the queued and the ready one", len(live), err)
	}
	c, _ := db.Session(ctx, "c")
	e, _ := db.Session(ctx, "e")
	if c.Reservation != "cls-1" || !e.EnvLeft || c.EnvLeft {
		t.Errorf("reservation %q, env_left %v/%v", c.Reservation, e.EnvLeft, c.EnvLeft)
	}
}

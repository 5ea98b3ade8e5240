package docker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// A removal that runs out of time fails and leaves the environment for the
// next attempt (the lab service retries); it does not wait on the daemon
// past its deadline. The next attempt removes everything.
func TestRuntimeDestroyWithinDeadline(t *testing.T) {
	r := newTestRuntime(t)
	ctx := context.Background()
	spec := lab.EnvSpec{Session: "dl" + fmt.Sprint(time.Now().UnixNano()%1e9), Lab: "demo", Nodes: []lab.Node{
		{Name: "node1", Image: "academy/tiny", Memory: 32 << 20, CPUs: 0.1, Pids: 16, Volumes: []string{"/data"}},
	}}
	if _, err := r.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Destroy(context.Background(), spec.Session) })
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	if err := r.Destroy(expired, spec.Session); err == nil {
		t.Fatal("Destroy past its deadline reported success")
	}
	if n := leftovers(t, r, spec.Session); n == 0 {
		t.Fatal("nothing left after a failed removal: the test proves nothing")
	}
	if err := r.Destroy(ctx, spec.Session); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n := leftovers(t, r, spec.Session); n != 0 {
		t.Errorf("%d containers, bridges or volumes left after the retry", n)
	}
	// bounded gives a call without a deadline one, and keeps a caller's.
	bctx, bcancel := bounded(ctx, time.Minute)
	defer bcancel()
	if _, ok := bctx.Deadline(); !ok {
		t.Error("bounded left a call without a deadline")
	}
	short, scancel := context.WithTimeout(ctx, time.Second)
	defer scancel()
	want, _ := short.Deadline()
	kept, kcancel := bounded(short, time.Hour)
	defer kcancel()
	if got, _ := kept.Deadline(); !got.Equal(want) {
		t.Errorf("bounded replaced the caller's deadline: %s, want %s", got, want)
	}
}

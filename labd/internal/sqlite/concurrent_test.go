package sqlite

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/exam"
)

// Two labd on one database: they open (and migrate) it together, and their
// read-decide-write transactions do not race. Each goroutine starts an
// attempt only when the user has no open one: exactly one may be started,
// and no call may fail on a conflict.
func TestTwoInstances(t *testing.T) { forEachDB(t, testTwoInstances) }

func testTwoInstances(t *testing.T, dsn string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dbs := make([]*DB, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = Open(ctx, dsn)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	now := time.UnixMilli(time.Now().UnixMilli())
	const tries = 12
	started := make(chan string, tries)
	fails := make(chan error, tries)
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := dbs[i%2].UpdateAttempts(ctx, "ann", "ceph", func(have []*exam.Attempt) ([]*exam.Attempt, error) {
				for _, a := range have {
					if a.State == exam.State("open") {
						return nil, nil
					}
				}
				id := fmt.Sprintf("a%d", i)
				started <- id
				return []*exam.Attempt{{ID: id, Exam: "ceph", User: "ann", State: exam.State("open"), Started: now, Deadline: now.Add(time.Hour),
					Questions: []exam.Drawn{}, Answers: map[string][]string{}}}, nil
			})
			if err != nil {
				fails <- err
			}
		}()
	}
	wg.Wait()
	close(started)
	close(fails)
	for err := range fails {
		t.Errorf("update attempts: %v", err)
	}
	var ids []string
	for id := range started {
		ids = append(ids, id)
	}
	atts, err := dbs[0].Attempts(ctx, "ann", "ceph")
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 1 || len(ids) != 1 || atts[0].ID != ids[0] {
		t.Errorf("started %v, stored %d attempts", ids, len(atts))
	}
}

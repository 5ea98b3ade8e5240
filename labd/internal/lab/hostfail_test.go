package lab_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/lab/labtest"
)

// aioRuntime fails the setup script "start-osd" the first fails times as a
// BlueStore OSD does when the kernel's AIO slots are used up.
type aioRuntime struct {
	*labtest.Runtime
	mu    sync.Mutex
	fails int
}

func (r *aioRuntime) Exec(ctx context.Context, session, node string, cmd lab.Command) (lab.Result, error) {
	if cmd.Script == "start-osd" {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.fails > 0 {
			r.fails--
			out := "bdev(0x55 /var/lib/ceph/osd/ceph-2/block) _aio_start io_setup(2) failed with EAGAIN; try increasing /proc/sys/fs/aio-max-nr\n" +
				strings.Repeat("osd.2 0 OSD:init: unable to mount object store\n", 6)
			return lab.Result{ExitCode: 1, Output: []byte(out)}, nil
		}
	}
	return r.Runtime.Exec(ctx, session, node, cmd)
}

func TestHostFailureRetriedOnce(t *testing.T) {
	for _, tt := range []struct {
		fails int
		want  lab.State
	}{{1, lab.Ready}, {2, lab.Failed}} {
		t.Run(string(tt.want), func(t *testing.T) {
			rt := &aioRuntime{Runtime: labtest.NewRuntime(), fails: tt.fails}
			catalog := lab.NewCatalog(labtest.Lab("ceph", "start-osd"))
			svc := lab.NewService(lab.Config{ReapEvery: time.Hour}, catalog, rt, openDB(t))
			if err := svc.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(svc.Close)
			<-svc.Recovered()
			s, _, err := svc.Create(context.Background(), "alice", "ceph")
			if err != nil {
				t.Fatal(err)
			}
			var got *lab.Session
			waitFor(t, "the session to settle", func() bool {
				got, _ = svc.Session(context.Background(), alice, s.ID)
				return got != nil && (got.State == lab.Ready || got.State == lab.Failed)
			})
			if got.State != tt.want {
				t.Fatalf("state %s (%s), want %s", got.State, got.Reason, tt.want)
			}
			if tt.want == lab.Failed {
				if strings.Contains(got.Reason, "io_setup") || !strings.Contains(got.Reason, "kernel asynchronous I/O slots") {
					t.Errorf("reason %q: want the host's shortage, not the daemon's error", got.Reason)
				}
				if !strings.Contains(got.Reason, "重试后仍") {
					t.Errorf("reason %q: want it in Chinese too", got.Reason)
				}
			} else if got.Notice != nil {
				t.Errorf("a ready session keeps the notice %+v", got.Notice)
			}
			if rt.fails != 0 {
				t.Errorf("%d failures not met: not retried", rt.fails)
			}
			if rt.Count() > 1 {
				t.Errorf("%d environments left", rt.Count())
			}
		})
	}
}

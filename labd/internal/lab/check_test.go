package lab_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/lab/labtest"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

// execRuntime is the fake runtime whose checks end as the test says.
type execRuntime struct {
	*labtest.Runtime
	mu  sync.Mutex
	res lab.Result
	err error
	env []string // of the last check
}

func (r *execRuntime) Exec(ctx context.Context, session, node string, cmd lab.Command) (lab.Result, error) {
	if !strings.HasPrefix(cmd.Script, "test ") {
		return r.Runtime.Exec(ctx, session, node, cmd)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.env = cmd.Env
	if r.err != nil {
		return lab.Result{}, r.err
	}
	res := r.res
	// Like the fail helper in the images: the check speaks LAB_LANG.
	for _, e := range cmd.Env {
		if lang, ok := strings.CutPrefix(e, "LAB_LANG="); ok && res.Output == nil {
			res.Output = []byte("FAIL: in " + lang + "\n")
		}
	}
	return res, nil
}

func TestCheckSpeaksTheTraineesLanguage(t *testing.T) {
	rt := &execRuntime{Runtime: labtest.NewRuntime()}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := lab.NewService(lab.Config{ReapEvery: time.Hour}, lab.NewCatalog(labtest.Lab("demo")), rt, db)
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	ctx := context.Background()
	alice := lab.Actor{User: "alice"}
	s, _, err := svc.Create(ctx, alice.User, "demo")
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if s, err = svc.Wait(wctx, alice, s.ID); err != nil || s.State != lab.Ready {
		t.Fatalf("session %+v, %v", s, err)
	}

	fails := lab.Result{ExitCode: 1}
	for _, tc := range []struct {
		name, lang string
		res        lab.Result
		err        error
		want       string // the output
	}{
		{"check in Chinese", "zh", fails, nil, "FAIL: in zh"},
		{"check in English", "en", fails, nil, "FAIL: in en"},
		{"default Chinese", "", fails, nil, "FAIL: in zh"},
		{"unknown language", "fr", fails, nil, "FAIL: in zh"},
		{"node stopped, en", "en", lab.Result{}, &lab.NodeError{Node: "node1", Cause: lab.CauseNotRunning, Err: errors.New("node node1 is not running")},
			"FAIL: the node node1 is not running (stopped or exited), so the check could not run: reset the lab or ask your lecturer"},
		{"node stopped, zh", "zh", lab.Result{}, &lab.NodeError{Node: "node1", Cause: lab.CauseNotRunning, Err: errors.New("x")},
			"FAIL: 节点 node1 没有在运行（已停止或已退出），检查无法执行：请重置实验或联系讲师"},
		{"out of processes, en", "en", lab.Result{ExitCode: 126, Output: []byte("OCI runtime exec failed\n"), Cause: lab.CauseNoPIDs}, nil,
			"FAIL: the node node1 is out of processes (its process limit is reached), so the check could not start: end the runaway processes (pkill, or kill -9 -1) and check again"},
		{"out of processes, zh", "zh", lab.Result{ExitCode: 126, Output: []byte("\n"), Cause: lab.CauseNoPIDs}, nil,
			"FAIL: 节点 node1 的进程数已达上限，检查无法启动：先结束失控的进程（例如 pkill 或 kill -9 -1）再检查"},
		{"FAIL lines stay, then the cause", "en", lab.Result{ExitCode: 137, Output: []byte("FAIL: half done\n"), Cause: lab.CauseOOM}, nil,
			"FAIL: half done\nFAIL: the node node1 is out of memory and the check was killed (OOM): end what uses the memory and check again"},
		{"timeout, zh", "zh", lab.Result{ExitCode: -1, TimedOut: true, Output: []byte("\n")}, nil, "FAIL: 检查没有在 1s 内完成"},
		{"hung out of processes", "en", lab.Result{ExitCode: -1, TimedOut: true, Cause: lab.CauseNoPIDs}, nil,
			"FAIL: the node node1 is out of processes (its process limit is reached), so the check could not start: end the runaway processes (pkill, or kill -9 -1) and check again"},
		{"timeout, en", "en", lab.Result{ExitCode: -1, TimedOut: true, Output: []byte("\n")}, nil, "FAIL: the check did not finish within 1s"},
		{"other error, en", "en", lab.Result{}, errors.New("node node1: daemon gone"), "FAIL: the check could not run on node1: node node1: daemon gone"},
		{"other error, zh", "zh", lab.Result{}, errors.New("node node1: daemon gone"), "FAIL: 检查无法在 node1 上运行：node node1: daemon gone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt.mu.Lock()
			rt.res, rt.err = tc.res, tc.err
			rt.mu.Unlock()
			r, err := svc.CheckIn(ctx, alice, s.ID, "one", tc.lang)
			if err != nil {
				t.Fatal(err)
			}
			if r.Passed || r.Output != tc.want {
				t.Errorf("output %q (passed %v), want %q", r.Output, r.Passed, tc.want)
			}
		})
	}
	// Check is CheckIn in Chinese.
	rt.res, rt.err = fails, nil
	if r, err := svc.Check(ctx, alice, s.ID, "one"); err != nil || r.Output != "FAIL: in zh" {
		t.Errorf("Check = %+v, %v", r, err)
	}
}

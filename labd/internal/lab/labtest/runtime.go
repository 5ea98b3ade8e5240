// Package labtest has a hand-written lab.Runtime for fast unit tests of the
// packages above lab; the Docker runtime is tested against a real daemon.
package labtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// Runtime is a hand-written lab.Runtime for unit tests;
// the Docker runtime has its own tests against a real daemon. A node's
// "file system" is a set of words: a script "touch X" adds X, "test X"
// passes when X is there.
type Runtime struct {
	mu        sync.Mutex
	envs      map[string]map[string]map[string]bool // session -> node -> words
	FailLab   string                                // Create fails for this lab
	destroyed []string
	Faulted   []string      // session/node/action, in order
	Gate      chan struct{} // if set, Create waits on it
	// DestroyFails, while set, makes Destroy fail (or, with DestroyHangs,
	// hang until its context ends) and leave the environment in place.
	DestroyFails bool
	DestroyHangs bool
	// SessionsGate, if set, makes Sessions wait on it (a slow daemon).
	SessionsGate chan struct{}
	// DestroyAttempts counts calls to Destroy.
	DestroyAttempts int
}

// NewRuntime returns an empty fake runtime.
func NewRuntime() *Runtime {
	return &Runtime{envs: map[string]map[string]map[string]bool{}}
}

func (f *Runtime) Create(ctx context.Context, spec lab.EnvSpec) (lab.Env, error) {
	if f.Gate != nil {
		select {
		case <-f.Gate:
		case <-ctx.Done():
			return lab.Env{}, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if spec.Lab == f.FailLab {
		return lab.Env{}, errors.New("image academy/missing is not on this machine")
	}
	env := lab.Env{Session: spec.Session}
	nodes := map[string]map[string]bool{}
	for i, n := range spec.Nodes {
		nodes[n.Name] = map[string]bool{}
		env.Nodes = append(env.Nodes, lab.NodeAddr{Name: n.Name, Container: spec.Session + n.Name, Address: fmt.Sprintf("10.0.0.%d", i+2)})
	}
	f.envs[spec.Session] = nodes
	return env, nil
}

func (f *Runtime) Exec(ctx context.Context, session, node string, cmd lab.Command) (lab.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	files, ok := f.envs[session][node]
	if !ok {
		return lab.Result{}, fmt.Errorf("node %s is not running", node)
	}
	verb, arg, _ := strings.Cut(strings.TrimSpace(cmd.Script), " ")
	switch verb {
	case "touch":
		files[arg] = true
	case "test":
		if !files[arg] {
			return lab.Result{ExitCode: 1, Output: []byte("checking\nFAIL: " + arg + " is missing\n")}, nil
		}
	case "exit":
		return lab.Result{ExitCode: 3, Output: []byte("boom\n")}, nil
	}
	return lab.Result{Duration: time.Millisecond}, nil
}

func (f *Runtime) Destroy(ctx context.Context, session string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.DestroyAttempts++
	if f.DestroyFails {
		if f.DestroyHangs {
			f.mu.Unlock()
			<-ctx.Done()
			f.mu.Lock()
			return fmt.Errorf("remove container of %s: %w", session, ctx.Err())
		}
		return fmt.Errorf("remove container of %s: device or resource busy", session)
	}
	delete(f.envs, session)
	f.destroyed = append(f.destroyed, session)
	return nil
}

func (f *Runtime) Sessions(ctx context.Context) ([]string, error) {
	if f.SessionsGate != nil {
		select {
		case <-f.SessionsGate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id := range f.envs {
		ids = append(ids, id)
	}
	return ids, nil
}

// SetDestroyFails sets DestroyFails and DestroyHangs safely while the service runs.
func (f *Runtime) SetDestroyFails(fails, hangs bool) {
	f.mu.Lock()
	f.DestroyFails, f.DestroyHangs = fails, hangs
	f.mu.Unlock()
}

// Attempts is DestroyAttempts, read safely.
func (f *Runtime) Attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.DestroyAttempts
}

// Has reports whether session's environment exists.
func (f *Runtime) Has(session string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.envs[session]
	return ok
}

// Count is the number of environments.
func (f *Runtime) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.envs)
}

// Lab returns a one-node lab with steps one and two: their checks are
// `test one` and `test two`, their solutions `touch one` and `touch two`.
func Lab(id string, setup ...string) *lab.Definition {
	d := &lab.Definition{
		ID: id, Title: lab.Text{ZH: "测试", EN: "Test"},
		Duration: lab.Duration(10 * time.Minute), TimeLimit: lab.Duration(time.Hour),
		IdleTimeout: lab.Duration(20 * time.Minute), ExtendBy: lab.Duration(30 * time.Minute),
		Nodes: []lab.Node{{Name: "node1", Image: "academy/tiny", Terminal: true}},
	}
	for _, s := range setup {
		d.Setup = append(d.Setup, lab.Script{Node: "node1", Script: "setup.sh", Body: s, Timeout: lab.Duration(time.Minute)})
	}
	for _, st := range []string{"one", "two"} {
		d.Steps = append(d.Steps, lab.Step{ID: st, Title: lab.Text{ZH: st, EN: st},
			Check:    lab.Check{Node: "node1", Body: "test " + st, Timeout: lab.Duration(time.Second)},
			Solution: lab.Solution{Node: "node1", Body: "touch " + st}})
	}
	return d
}

// StartShell starts a fake shell that echoes its input back.
func (f *Runtime) StartShell(ctx context.Context, session, node string, cols, rows int) (lab.Shell, error) {
	f.mu.Lock()
	_, ok := f.envs[session][node]
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("node %s is not running", node)
	}
	r, w := io.Pipe()
	return &echoShell{r: r, w: w}, nil
}

// echoShell is a fake shell: what is written comes back as output.
type echoShell struct {
	r *io.PipeReader
	w *io.PipeWriter
}

func (s *echoShell) Read(p []byte) (int, error)  { return s.r.Read(p) }
func (s *echoShell) Write(p []byte) (int, error) { return s.w.Write(p) }
func (s *echoShell) Resize(cols, rows int) error { return nil }
func (s *echoShell) Wait() (int, error)          { return 0, nil }
func (s *echoShell) Kill() error                 { return s.w.Close() }

// Copy copies the words of a node that start with path to other nodes.
func (f *Runtime) Copy(ctx context.Context, session, from, path string, to []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	src, ok := f.envs[session][from]
	if !ok {
		return fmt.Errorf("node %s is not running", from)
	}
	for _, n := range to {
		dst, ok := f.envs[session][n]
		if !ok {
			return fmt.Errorf("node %s is not running", n)
		}
		for w := range src {
			if strings.HasPrefix(w, path) {
				dst[w] = true
			}
		}
	}
	return nil
}

// Fault records the action; a stopped node no longer runs commands.
func (f *Runtime) Fault(ctx context.Context, session, node, action string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.envs[session][node]; !ok && action != "start" {
		return fmt.Errorf("node %s is not running", node)
	}
	f.Faulted = append(f.Faulted, session+"/"+node+"/"+action)
	return nil
}

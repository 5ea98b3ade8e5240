// Package local runs lab environments as plain processes on this machine:
// a folder per node, commands and shells (in a PTY, creack/pty) started
// there. It is for development and fast tests of the terminal hub. It is
// NOT a sandbox: everything runs as labd's own user with full access to the
// machine.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"

	"github.com/xsky-academy/academy/labd/internal/hangup"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

var (
	_ lab.Runtime = (*Runtime)(nil)
	_ lab.Shells  = (*Runtime)(nil)
)

// Runtime keeps each session in dir/<session>/<node>/.
type Runtime struct {
	dir string
	// Shell is the program started for terminals (default: bash, else sh).
	Shell []string

	mu     sync.Mutex
	groups map[string]map[int]bool // session -> process groups still running
}

// New returns a runtime that keeps sessions under dir.
func New(dir string) (*Runtime, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	sh := []string{"/bin/sh", "-i"}
	if p, err := exec.LookPath("bash"); err == nil {
		sh = []string{p, "--noprofile", "--norc", "-i"}
	}
	return &Runtime{dir: dir, Shell: sh, groups: map[string]map[int]bool{}}, nil
}

func (r *Runtime) nodeDir(session, node string) string { return filepath.Join(r.dir, session, node) }

// Create makes a folder per node.
func (r *Runtime) Create(ctx context.Context, spec lab.EnvSpec) (lab.Env, error) {
	env := lab.Env{Session: spec.Session}
	for _, n := range spec.Nodes {
		if err := os.MkdirAll(r.nodeDir(spec.Session, n.Name), 0o700); err != nil {
			os.RemoveAll(filepath.Join(r.dir, spec.Session))
			return lab.Env{}, err
		}
		env.Nodes = append(env.Nodes, lab.NodeAddr{Name: n.Name, Container: "local", Address: "127.0.0.1"})
	}
	return env, nil
}

func (r *Runtime) env(session, node string) []string {
	dir := r.nodeDir(session, node)
	return append(os.Environ(), "HOME="+dir, "LAB_SESSION="+session, "LAB_NODE="+node,
		"TERM=xterm-256color", "PS1=\\u@"+node+":\\w\\$ ")
}

func (r *Runtime) track(session string, pgid int, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.groups[session] == nil {
		r.groups[session] = map[int]bool{}
	}
	if on {
		r.groups[session][pgid] = true
	} else {
		delete(r.groups[session], pgid)
	}
}

// Exec runs cmd in the node's folder, in a process group of its own that is
// killed at the timeout.
func (r *Runtime) Exec(ctx context.Context, session, node string, cmd lab.Command) (lab.Result, error) {
	dir := r.nodeDir(session, node)
	if _, err := os.Stat(dir); err != nil {
		return lab.Result{}, fmt.Errorf("node %s does not exist", node)
	}
	if cmd.Timeout <= 0 {
		cmd.Timeout = lab.DefaultCheckTimeout
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cmd.Timeout)
	defer cancel()
	c := exec.Command("/bin/sh", "-c", cmd.Script, node)
	c.Dir, c.Env = dir, append(r.env(session, node), cmd.Env...)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &lab.Output{Max: cmd.MaxOutput}
	c.Stdout, c.Stderr = out, out
	if err := c.Start(); err != nil {
		return lab.Result{}, err
	}
	r.track(session, c.Process.Pid, true)
	defer r.track(session, c.Process.Pid, false)
	stop := context.AfterFunc(ctx, func() { syscall.Kill(-c.Process.Pid, syscall.SIGKILL) })
	defer stop()
	err := c.Wait()
	res := lab.Result{Output: out.Bytes(), Duration: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		res.TimedOut, res.ExitCode = true, -1
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
	case err != nil:
		return res, err
	}
	return res, nil
}

// Destroy kills what runs in the session and removes its folders.
func (r *Runtime) Destroy(ctx context.Context, session string) error {
	r.mu.Lock()
	groups := r.groups[session]
	delete(r.groups, session)
	r.mu.Unlock()
	for pgid := range groups {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	return os.RemoveAll(filepath.Join(r.dir, session))
}

// Sessions lists the session folders.
func (r *Runtime) Sessions(ctx context.Context) ([]string, error) {
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// StartShell starts the shell in a PTY in the node's folder.
func (r *Runtime) StartShell(ctx context.Context, session, node string, cols, rows int) (lab.Shell, error) {
	dir := r.nodeDir(session, node)
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("node %s does not exist", node)
	}
	c := exec.Command(r.Shell[0], r.Shell[1:]...)
	c.Dir, c.Env = dir, r.env(session, node)
	f, err := pty.StartWithSize(c, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
	if err != nil {
		return nil, err
	}
	r.track(session, c.Process.Pid, true)
	if f, err = pollable(f); err != nil {
		c.Process.Kill()
		return nil, err
	}
	return &shell{r: r, session: session, cmd: c, pty: f}, nil
}

// pollable makes the PTY's file non-blocking, so that Go's poller waits
// on it: closing it then ends a Read or a Write in progress. A blocking
// write to a terminal nobody reads never returns, not even when the file
// is closed.
func pollable(f *os.File) (*os.File, error) {
	fd, err := syscall.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return nil, err
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "ptmx"), nil
}

type shell struct {
	r       *Runtime
	session string
	cmd     *exec.Cmd
	pty     *os.File
	once    sync.Once
	code    int
	err     error
}

func (s *shell) Read(p []byte) (int, error) {
	n, err := s.pty.Read(p)
	// Linux answers EIO, not EOF, once the shell side has closed.
	if err != nil && (errors.Is(err, syscall.EIO) || errors.Is(err, os.ErrClosed)) {
		err = io.EOF
	}
	return n, err
}

func (s *shell) Write(p []byte) (int, error) { return s.pty.Write(p) }

func (s *shell) Resize(cols, rows int) error {
	return pty.Setsize(s.pty, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
}

func (s *shell) Wait() (int, error) {
	s.once.Do(func() {
		err := s.cmd.Wait()
		s.r.track(s.session, s.cmd.Process.Pid, false)
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			s.code = exit.ExitCode()
			if st, ok := exit.Sys().(syscall.WaitStatus); ok && st.Signaled() {
				s.code = 128 + int(st.Signal())
			}
		case err != nil && !strings.Contains(err.Error(), "already"):
			s.err = err
		}
		s.pty.Close()
	})
	return s.code, s.err
}

// Kill hangs up the shell's session, every job of it included (its jobs
// get SIGHUP), then kills what is left. A job left running would hold the
// terminal open, and a write to it blocked.
func (s *shell) Kill() error {
	go hangup.Session(s.cmd.Process.Pid, time.Second)
	return nil
}

// Copy copies path (taken inside the node's folder) to the other nodes.
func (r *Runtime) Copy(ctx context.Context, session, from, path string, to []string) error {
	src := filepath.Join(r.nodeDir(session, from), filepath.Clean("/"+path))
	for _, node := range to {
		dst := filepath.Join(r.nodeDir(session, node), filepath.Clean("/"+path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
			// A file rather than a folder.
			data, rerr := os.ReadFile(src)
			if rerr != nil {
				return fmt.Errorf("copy %s from %s: %w", path, from, err)
			}
			if err := os.WriteFile(dst, data, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

package docker

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/xsky-academy/academy/labd/internal/hangup"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

var _ lab.Shells = (*Runtime)(nil)

// detachKeys replaces Docker's default ctrl-p,ctrl-q, which holds back every
// Ctrl-P (bash's previous-history key) to see whether a Ctrl-Q follows.
// Docker cannot turn detaching off; this sequence is one nobody types.
const detachKeys = "ctrl-^,ctrl-_,ctrl-^,ctrl-_,ctrl-^,ctrl-_"

// shellCommand starts a login shell: bash where there is one. Output flow
// control (IXON) is turned off: a Ctrl-S, typed or pasted, would otherwise
// stop the terminal's output until a Ctrl-Q nobody knows to type, and the
// shell with it.
var shellCommand = []string{"/bin/sh", "-c",
	"stty -ixon 2>/dev/null; if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi"}

// shellMark is in the environment of labd's shells, so that the shells a
// crashed labd left behind can be told from other execs (EndShells).
const shellMark = "LABD_SHELL=1"

// StartShell starts a shell on a TTY in a node with docker exec.
func (r *Runtime) StartShell(ctx context.Context, session, node string, cols, rows int) (lab.Shell, error) {
	// The shell outlives the request that starts it, but starting it has a
	// deadline (the context serves only the exec's creation and the dial of
	// its connection, which outlives it).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	size := &[2]uint{uint(rows), uint(cols)} // sent only to daemons with API 1.42 or later
	created, err := r.cli.ContainerExecCreate(ctx, containerName(session, node), container.ExecOptions{
		Cmd: shellCommand, Tty: true, AttachStdin: true, AttachStdout: true, AttachStderr: true,
		DetachKeys: detachKeys, WorkingDir: "/root", ConsoleSize: size,
		Env: []string{"TERM=xterm-256color", "LANG=C.UTF-8", "HOME=/root", "LAB_SESSION=" + session, "LAB_NODE=" + node, shellMark},
	})
	if err != nil {
		return nil, describe(node, err)
	}
	att, err := r.cli.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{Tty: true, ConsoleSize: size})
	if err != nil {
		return nil, describe(node, err)
	}
	sh := &shell{r: r, exec: created.ID, att: att}
	// Until the process exists, a resize fails ("process not found") and the
	// terminal would stay 0x0: retry the first one for a while.
	for i := range 20 {
		if err = sh.Resize(cols, rows); err == nil {
			break
		}
		time.Sleep(time.Duration(5*(i+1)) * time.Millisecond)
	}
	if err != nil {
		att.Close()
		return nil, fmt.Errorf("size the terminal of %s: %w", node, err)
	}
	return sh, nil
}

type shell struct {
	r    *Runtime
	exec string
	att  types.HijackedResponse
	once sync.Once
}

func (s *shell) Read(p []byte) (int, error)  { return s.att.Reader.Read(p) }
func (s *shell) Write(p []byte) (int, error) { return s.att.Conn.Write(p) }

func (s *shell) Resize(cols, rows int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.r.cli.ContainerExecResize(ctx, s.exec, container.ResizeOptions{Width: uint(cols), Height: uint(rows)})
}

// Wait reads the exit code; the output has ended, so it is final.
func (s *shell) Wait() (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	insp, err := s.r.cli.ContainerExecInspect(ctx, s.exec)
	s.att.Close()
	if err != nil {
		return -1, err
	}
	return insp.ExitCode, nil
}

// Kill ends the shell and its jobs. The Engine has no API to kill an exec,
// but it tells the shell's pid on the host, where labd runs as root: its
// terminal session is hung up there (hangup.Session).
func (s *shell) Kill() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	insp, err := s.r.cli.ContainerExecInspect(ctx, s.exec)
	s.att.Close()
	if err != nil {
		if strings.Contains(err.Error(), "No such exec") {
			return nil
		}
		return err
	}
	if !insp.Running || insp.Pid <= 0 {
		return nil
	}
	go hangup.Session(insp.Pid, time.Second)
	return nil
}

// EndShells ends the shells labd started in this instance's nodes that are
// still running: after a crash, nothing holds them any more (a restarted
// labd has no hub for them), and they and their jobs would count against
// the node's pid limit until the session ends. Call it before any terminal
// opens. It returns how many it ended.
func (r *Runtime) EndShells(ctx context.Context) (int, error) {
	f := filters.NewArgs(filters.Arg("label", LabelInstance+"="+r.instance), filters.Arg("label", LabelSession))
	list, err := r.cli.ContainerList(ctx, container.ListOptions{Filters: f})
	if err != nil {
		return 0, err
	}
	var pids []int
	for _, c := range list {
		info, err := r.cli.ContainerInspect(ctx, c.ID)
		if err != nil {
			continue
		}
		for _, id := range info.ExecIDs {
			x, err := r.cli.ContainerExecInspect(ctx, id)
			if err != nil || !x.Running || x.Pid <= 0 || !hangup.Environ(x.Pid, shellMark) {
				continue
			}
			pids = append(pids, x.Pid)
		}
	}
	var wg sync.WaitGroup
	for _, pid := range pids {
		wg.Go(func() { hangup.Session(pid, time.Second) })
	}
	wg.Wait()
	return len(pids), ctx.Err()
}

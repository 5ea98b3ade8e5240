package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/docker"
	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/terminal"
	"github.com/xsky-academy/academy/labd/internal/terminal/ttytest"
)

// TestTerminalFlood: 20 MB of random bytes laced with Ctrl-S, Ctrl-Z,
// Ctrl-C and escape sequences, then a huge paste, from a writer that never
// reads nor acks, into a real shell of a linux-basics node. labd takes
// every frame without blocking and tells an observer the terminal is
// stalled (the shell, never acked, stops), the trainee restarts the
// terminal and the new shell answers; every handler goroutine of the old
// connections returns. labd runs in this process, so its goroutines are
// visible.
func TestTerminalFlood(t *testing.T) {
	needDocker(t)
	l := startLabd(t, t.TempDir(), instanceName(t), "../labs")
	alice := l.token(t, "alice", auth.Trainee)
	admin := l.token(t, "root", auth.Admin)
	s := l.readySession(t, alice, "linux-basics")

	tk, _ := l.ticket(t, alice, s.ID, "node1")
	flood, _, err := terminal.Dial(context.Background(), l.wsURL(s.ID, "node1", ""), tk, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer flood.Close()
	obs := openStream(t, l, admin, s.ID, "node1", "")
	defer obs.r.Close()

	frames := ttytest.Garbage(20<<20, 32<<10, 11)
	frames = append(frames, []byte(strings.Repeat("paste ", (60<<10)/6)))
	began := time.Now()
	sent := 0
	ttytest.Within(t, 3*time.Minute, "sending 20 MB of input", func() {
		for _, f := range frames {
			// The connection may end, but only with the shell (below).
			if flood.Send(terminal.Input(f)) != nil {
				return
			}
			sent += len(f)
		}
	})
	t.Logf("%d bytes of input taken in %s", sent, time.Since(began).Round(time.Millisecond))
	// The observer reads on and is told the shell takes no input. Random
	// keys now and then end bash instead (readline's vi mode has a key that
	// runs an editor, and the editor's buffer then runs as commands): then
	// the observer sees the exit.
	stalled, exited := false, false
	ttytest.Within(t, time.Minute, "the stalled state", func() {
		for !stalled && !exited {
			f, err := obs.r.Read()
			stalled = err == nil && f.Type == terminal.TypeState && f.Stalled
			exited = err != nil || f.Type == terminal.TypeExit
		}
	})
	t.Logf("stalled %v, the shell ended %v", stalled, exited)
	if !stalled && !exited {
		t.Fatal("neither stalled nor ended")
	}
	if sent < 20<<20 && !exited {
		// It ended after the stall was reported: its exit follows.
		ttytest.Within(t, time.Minute, "the shell's end", func() {
			for !exited {
				f, err := obs.r.Read()
				exited = err != nil || f.Type == terminal.TypeExit
			}
		})
	}
	// (A new window's hello also says stalled while it is: the shell may
	// drain its input or end meanwhile, so TestInputToAStuckShell has that.)

	if code := l.call(t, "POST", "/api/sessions/"+s.ID+"/nodes/node1/terminal/restart", alice, nil, nil); code != 204 {
		t.Fatalf("restart: %d", code)
	}
	ttytest.Within(t, 30*time.Second, "the flooder's connection to end", func() {
		for {
			if _, err := flood.Read(); err != nil {
				return
			}
		}
	})
	fresh := openStream(t, l, alice, s.ID, "node1", "")
	if fresh.r.Hello.Stalled {
		t.Errorf("the new shell's hello %+v", fresh.r.Hello)
	}
	fresh.line("echo o''k")
	defer func() {
		if t.Failed() { // what the garbage left running in the node
			res, err := l.rt.Exec(context.Background(), s.ID, "node1", lab.Command{Script: "ps -eo pid,sid,stat,args", Timeout: 20 * time.Second})
			t.Logf("processes in node1 (%v):\n%s", err, res.Output)
		}
	}()
	fresh.until("echo ok", func(o string) bool { return strings.Contains(o, "ok\r\n") })
	fresh.r.Close()
	obs.r.Close()
	ttytest.GoroutinesGone(t, 30*time.Second, "terminal.Serve", "terminal.readLoop")
}

// TestTerminalShellsEndAfterCrash: labd (a real process) is killed with
// SIGKILL while a trainee's shell runs a job; the next labd adopts the
// session and ends the orphaned shell and its job, and the trainee's next
// shell records to a new file after the first, whose output up to the
// crash was flushed.
func TestTerminalShellsEndAfterCrash(t *testing.T) {
	needDocker(t)
	data, instance := t.TempDir(), instanceName(t)
	bin := filepath.Join(t.TempDir(), "labd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build labd: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", data, "--labs", "../labs",
		"--instance", instance, "--site", "", "--log-level", "warn")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rt, err := docker.New(instance, "10.213.0.0/24")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		ids, _ := rt.Sessions(context.Background())
		for _, id := range ids {
			rt.Destroy(context.Background(), id)
		}
	})
	first := &labd{data: data, instance: instance, rt: rt}
	sc := bufio.NewScanner(stdout)
	for first.url == "" && sc.Scan() {
		first.url, _ = strings.CutPrefix(sc.Text(), "labd: listening on ")
	}
	if first.url == "" {
		t.Fatal("labd did not start")
	}
	alice := first.token(t, "alice", auth.Trainee)
	s := first.readySession(t, alice, "linux-basics")
	w := openStream(t, first, alice, s.ID, "node1", "")
	w.line("sleep 1234 & echo sta''rted")
	w.until("the job", func(o string) bool { return strings.Contains(o, "started\r\n") })

	ps := func() string {
		res, err := rt.Exec(context.Background(), s.ID, "node1", lab.Command{Script: "ps -eo comm=,args=", Timeout: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return string(res.Output)
	}
	rec := filepath.Join(data, "recordings", s.ID, "node1-1.cast")
	waitFor(t, "the recording not flushed", func() bool {
		b, _ := os.ReadFile(rec)
		return strings.Contains(string(b), "started")
	})
	cmd.Process.Kill() // SIGKILL: nothing is cleaned up
	cmd.Wait()
	w.r.Close()
	if out := ps(); !strings.Contains(out, "sleep 1234") || !strings.Contains(out, "bash -l") {
		t.Fatalf("before the restart the shell should still run (the crash leaves it):\n%s", out)
	}

	second := startLabd(t, data, instance, "../labs")
	waitFor(t, "the orphaned shell and its job to end", func() bool {
		out := ps()
		return !strings.Contains(out, "sleep 1234") && !strings.Contains(out, "bash -l")
	})
	w2 := openStream(t, second, alice, s.ID, "node1", "")
	w2.line("echo se''cond")
	w2.until("the new shell", func(o string) bool { return strings.Contains(o, "second\r\n") })
	var recs []terminal.Recording
	second.call(t, "GET", "/api/sessions/"+s.ID+"/recordings", alice, nil, &recs)
	if len(recs) != 2 || recs[0].Name != "node1-1" || recs[1].Name != "node1-2" || recs[1].Size == 0 {
		t.Errorf("recordings after the restart: %+v", recs)
	}
	w2.r.Close()
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still so after 30 s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

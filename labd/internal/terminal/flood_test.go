package terminal_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/terminal"
	"github.com/xsky-academy/academy/labd/internal/terminal/ttytest"
)

// TestInputToAStuckShell: a shell that takes no input never blocks the
// writer's connection: input is queued up to InputQueue, then dropped, and
// every client is told the terminal is stalled. Closing the hub ends the
// write that never returned.
func TestInputToAStuckShell(t *testing.T) {
	h := terminal.NewHub(ttytest.NewStuck(), 80, 24, nil, nil)
	w, _ := h.Attach(false, 0)
	o, _ := h.Attach(true, 0)
	var full error
	ttytest.Within(t, 10*time.Second, "input to a stuck shell", func() {
		p := make([]byte, 32<<10)
		for range 4 * terminal.InputQueue / len(p) {
			if err := w.Input(p); err != nil {
				full = err
			}
		}
	})
	if !errors.Is(full, terminal.ErrStalled) || !h.Stalled() {
		t.Fatalf("input beyond the queue: %v, stalled %v", full, h.Stalled())
	}
	ttytest.Within(t, 10*time.Second, "the observer's state event", func() {
		ev, err := o.Next(make([]byte, 1024))
		if err != nil || !ev.State || !ev.Stalled {
			t.Errorf("observer event %+v %v, want a stalled state", ev, err)
		}
	})
	if w2, _ := h.Attach(false, 0); !w2.Hello.Stalled {
		t.Error("a new writer's hello does not say the terminal is stalled")
	}
	h.Close()
	ttytest.GoroutinesGone(t, 20*time.Second, "terminal.(*Hub).feed", "terminal.(*Hub).pump")
}

// TestFloodThenRestart floods a real bash (local runtime) whose terminal
// nobody reads, from a writer that never reads nor acks: the connection
// takes every frame at once, the terminal is reported stalled, and a
// restart gives a shell that answers. Every goroutine of the old
// connections and shell returns. (Random bytes go to a Docker node only:
// TestTerminalFlood in labd; here the shell runs on this machine.)
func TestFloodThenRestart(t *testing.T) {
	f := newFixture(t)
	flood := f.dial(t, "node=n1")
	obs := newReader(t, f.dial(t, "node=n1&observer=1"))
	// A program that never reads its terminal, which then fills.
	flood.Send(terminal.Input([]byte("stty raw -echo; echo rea''dy; sleep 600\r")))
	obs.until("ready", func(s string) bool { return strings.Contains(s, "ready") })
	frame := terminal.Input([]byte(strings.Repeat("x", 32<<10)))
	ttytest.Within(t, 2*time.Minute, "sending the flood", func() {
		for range (8 << 20) / (32 << 10) {
			if err := flood.Send(frame); err != nil {
				t.Errorf("send: %v", err)
				return
			}
		}
	})
	// The observer is told; it reads on, whatever the shell printed.
	deadline := time.Now().Add(30 * time.Second)
	stalled := false
	for !stalled && time.Now().Before(deadline) {
		fr, err := obs.r.Read()
		if err != nil {
			t.Fatalf("observer: %v", err)
		}
		stalled = fr.Type == terminal.TypeState && fr.Stalled
	}
	if !stalled {
		t.Fatal("the observer was not told the terminal is stalled")
	}
	if !f.mgr.Restart("s1", "n1") {
		t.Fatal("no shell to restart")
	}
	// The flooder is told, and its connection ends.
	ttytest.Within(t, 20*time.Second, "the flooder's close", func() {
		for {
			fr, err := flood.Read()
			if err != nil {
				return
			}
			if fr.Type == terminal.TypeError && fr.Error != "restarted" {
				t.Errorf("error %q, want restarted", fr.Error)
			}
		}
	})
	rd := newReader(t, f.dial(t, "node=n1"))
	if rd.r.Hello.Stalled || rd.r.Hello.Offset != 0 {
		t.Errorf("the new shell's hello %+v", rd.r.Hello)
	}
	rd.typeLine("echo o''k")
	rd.until("echo ok", func(s string) bool { return strings.Contains(s, "ok\r\n") })
	rd.r.Close()
	obs.r.Close()
	f.mgr.Restart("s1", "n1")
	ttytest.GoroutinesGone(t, 20*time.Second, "terminal.Serve", "terminal.readLoop", "terminal.(*Hub).feed", "terminal.(*Hub).pump")
}

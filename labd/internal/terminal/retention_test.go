package terminal_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/terminal"
)

// TestRetention: recordings past the age limit go, then the oldest while
// the total is over the cap; the live recording stays whatever its age,
// and a session folder left empty goes.
func TestRetention(t *testing.T) {
	f := newFixture(t)
	rd := newReader(t, f.dial(t, "node=n1")) // records s1/n1-1.cast, live
	rd.typeLine("echo li''ve")
	rd.until("echo", func(s string) bool { return strings.Contains(s, "live\r\n") })

	now := time.Now()
	write := func(name string, size int, age time.Duration) {
		p := filepath.Join(f.recs, name)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, now.Add(-age), now.Add(-age))
	}
	day := 24 * time.Hour
	write("old/n1-1.cast", 10, 100*day)    // past the age limit
	write("s2/n1-1.cast", 4000, 50*day)    // the oldest within it: over the cap
	write("s2/n1-2.cast", 3000, 40*day)    // fits
	write("s3/n1-1.cast", 3000, time.Hour) // fits
	write("s3/notes.txt", 5000, 200*day)   // not a recording
	live := filepath.Join(f.recs, "s1", "n1-1.cast")
	os.Chtimes(live, now.Add(-200*day), now.Add(-200*day))

	removed, err := f.mgr.SetRetention(90*day, 10000)
	if err != nil || removed != 2 {
		t.Errorf("removed %d (%v), want 2", removed, err)
	}
	var left []string
	filepath.Walk(f.recs, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(f.recs, p)
			left = append(left, rel)
		}
		return nil
	})
	want := []string{"s1/n1-1.cast", "s2/n1-2.cast", "s3/n1-1.cast", "s3/notes.txt"}
	if !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
	if _, err := os.Stat(filepath.Join(f.recs, "old")); !os.IsNotExist(err) {
		t.Error("the emptied session folder stayed")
	}
	// No limits: nothing goes.
	if n, _ := f.mgr.SetRetention(0, 0); n != 0 {
		t.Errorf("removed %d without limits", n)
	}
}

// TestRecordingNumbersFromDisk: a manager that finds recordings of a node
// (a restarted labd on an adopted session) numbers the next one after them.
func TestRecordingNumbersFromDisk(t *testing.T) {
	f := newFixture(t)
	os.MkdirAll(filepath.Join(f.recs, "s1"), 0o700)
	for _, name := range []string{"n1-1.cast", "n1-7.cast", "n2-9.cast", "n1-x.cast"} {
		os.WriteFile(filepath.Join(f.recs, "s1", name), []byte("{}\n"), 0o600)
	}
	rd := newReader(t, f.dial(t, "node=n1"))
	rd.typeLine("echo eig''ht")
	rd.until("echo", func(s string) bool { return strings.Contains(s, "eight\r\n") })
	// Flushed within FlushEvery, without anyone asking.
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(f.recs, "s1", "n1-8.cast"))
		if err == nil && strings.Contains(string(b), "eight") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("n1-8.cast: %v, %q: not written within %s", err, b, terminal.FlushEvery)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package ttytest

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// Within fails the test if f has not returned after d: a hang is a
// failure, not a wait for ever.
func Within(t testing.TB, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return in %s", what, d)
	}
}

// GoroutinesGone waits up to d until no goroutine of this process runs any
// of the functions named (substrings of their stack frames).
func GoroutinesGone(t testing.TB, d time.Duration, funcs ...string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		buf := make([]byte, 4<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		var left []string
		for _, f := range funcs {
			if strings.Contains(stacks, f) {
				left = append(left, f)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines still running %v:\n%s", left, stacks)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	l := NewLimiter(func() time.Time { return now })

	// Five failures for one e-mail from one client: the sixth try waits.
	for i := range 5 {
		if _, ok := l.Allow("a@x.com", "1.1.1.1"); !ok {
			t.Fatalf("try %d refused", i+1)
		}
		l.Fail("a@x.com", "1.1.1.1")
		now = now.Add(time.Minute)
	}
	wait, ok := l.Allow("a@x.com", "1.1.1.1")
	if ok || wait != 10*time.Minute {
		t.Fatalf("after 5 failures: wait %v ok %v; want 10m (the first failure leaves the window)", wait, ok)
	}
	// Another client may still try that e-mail; the same client another e-mail.
	if _, ok := l.Allow("a@x.com", "2.2.2.2"); !ok {
		t.Error("another client was refused")
	}
	if _, ok := l.Allow("b@x.com", "1.1.1.1"); !ok {
		t.Error("another e-mail was refused")
	}
	// The window slides: 10 minutes on, the first failure has aged out.
	now = now.Add(10 * time.Minute)
	if _, ok := l.Allow("a@x.com", "1.1.1.1"); !ok {
		t.Error("still refused after the window")
	}
	// A success resets the e-mail's count.
	l.Fail("a@x.com", "1.1.1.1")
	if _, ok := l.Allow("a@x.com", "1.1.1.1"); ok {
		t.Fatal("five failures in the window again, yet allowed")
	}
	l.Succeed("a@x.com", "1.1.1.1")
	if _, ok := l.Allow("a@x.com", "1.1.1.1"); !ok {
		t.Error("refused after a success")
	}
}

func TestLimiterPerClientAndEmail(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	l := NewLimiter(func() time.Time { return now })
	// One client guessing many e-mails: 20 failures, then it waits, for any e-mail.
	for i := range 20 {
		l.Fail(fmt.Sprintf("u%d@x.com", i), "9.9.9.9")
	}
	if wait, ok := l.Allow("new@x.com", "9.9.9.9"); ok || wait != 15*time.Minute {
		t.Errorf("client limit: %v %v", wait, ok)
	}
	// A success does not reset the client's count.
	l.Succeed("u1@x.com", "9.9.9.9")
	if _, ok := l.Allow("new@x.com", "9.9.9.9"); ok {
		t.Error("a success reset the client's count")
	}
	// Many clients guessing one e-mail: 100 failures, then that e-mail waits.
	for i := range 100 {
		l.Fail("target@x.com", fmt.Sprintf("10.0.%d.%d", i/250, i%250))
	}
	if _, ok := l.Allow("target@x.com", "10.9.9.9"); ok {
		t.Error("distributed guessing of one e-mail is not limited")
	}
	// Memory follows recent failures only.
	now = now.Add(time.Hour)
	l.Fail("late@x.com", "8.8.8.8")
	if len(l.fails) != 3 {
		t.Errorf("%d keys kept after the window, want 3 (the last failure's)", len(l.fails))
	}
}

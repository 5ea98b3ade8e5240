package auth

import (
	"testing"
	"time"
)

func TestTickets(t *testing.T) {
	ts := NewTickets()
	now := time.Now()
	ts.now = func() time.Time { return now }
	id := ts.Issue(Ticket{User: User{ID: "alice", Role: Trainee}, Session: "s", Node: "n"})
	if len(id) < 40 {
		t.Errorf("ticket %q is short", id)
	}
	tk, ok := ts.Redeem(id)
	if !ok || tk.User.ID != "alice" || tk.Session != "s" || tk.Node != "n" {
		t.Fatalf("redeem = %+v %v", tk, ok)
	}
	if _, ok := ts.Redeem(id); ok {
		t.Error("a ticket worked twice")
	}
	if _, ok := ts.Redeem("made-up"); ok {
		t.Error("an unknown ticket worked")
	}
	late := ts.Issue(Ticket{User: User{ID: "alice", Role: Trainee}})
	now = now.Add(TicketTTL + time.Second)
	if _, ok := ts.Redeem(late); ok {
		t.Error("an expired ticket worked")
	}
	// Expired tickets are forgotten as new ones are issued.
	ts.Issue(Ticket{})
	ts.Issue(Ticket{})
	now = now.Add(TicketTTL + time.Second)
	ts.Issue(Ticket{})
	if len(ts.m) != 1 {
		t.Errorf("%d tickets kept, want 1", len(ts.m))
	}
}

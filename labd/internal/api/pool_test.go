package api

import (
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// Warm-pool sessions: an admin sees them, marked, and removes them; nobody
// else sees them.
func TestPoolSessionsForAdmins(t *testing.T) {
	ts := newTestServer(t, lab.Config{MaxPerUser: 2, WarmPool: map[string]int{"demo": 1}})
	root := ts.token(t, "root", auth.Admin)
	alice := ts.token(t, "alice", auth.Trainee)
	var list []sessionView
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		ts.do(t, "GET", "/api/sessions?live=1", root, nil).json(t, &list)
		if len(list) == 1 && list[0].State == lab.Ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("admin's list: %+v", list)
		}
	}
	if !list[0].Pool || list[0].Owner != "" {
		t.Errorf("pool session not marked: %+v", list[0])
	}
	var mine []sessionView
	ts.do(t, "GET", "/api/sessions?live=1", alice, nil).json(t, &mine)
	if len(mine) != 0 {
		t.Errorf("alice sees %d sessions", len(mine))
	}
	if r := ts.do(t, "GET", "/api/sessions/"+list[0].ID, alice, nil); r.status != 404 {
		t.Errorf("alice reads a pool session: %d", r.status)
	}
	if r := ts.do(t, "DELETE", "/api/sessions/"+list[0].ID, alice, nil); r.status != 404 {
		t.Errorf("alice removes a pool session: %d", r.status)
	}
	if r := ts.do(t, "DELETE", "/api/sessions/"+list[0].ID, root, nil); r.status != 204 {
		t.Fatalf("admin removes a pool session: %d %s", r.status, r.body)
	}
	var gone sessionView
	ts.do(t, "GET", "/api/sessions/"+list[0].ID, root, nil).json(t, &gone)
	if gone.State != lab.Ended || gone.Pool != true || gone.Reason == "" {
		t.Errorf("after removal: %+v", gone)
	}
}

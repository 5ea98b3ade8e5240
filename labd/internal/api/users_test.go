package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/certificate"
	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/terminal"
)

// An admin deactivates, activates and deletes users: sign-ins, tokens and
// lab sessions stop at once; certificates stay verifiable.
func TestDeactivateAndDeleteUsers(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	root, _ := ts.api.Accounts.Add(ctx, "root@example.com", "Root", auth.Admin, matrixPassword)
	alice, _ := ts.api.Accounts.Add(ctx, "alice@example.com", "张伟", auth.Trainee, matrixPassword)
	admin := ts.token(t, root.ID, auth.Admin)
	token := ts.token(t, alice.ID, auth.Trainee)
	browser, _ := ts.signIn(t, "alice@example.com", matrixPassword)
	sessionID := ts.readySession(t, token)
	c, err := ts.api.Certificates.Issue(ctx, testCertRequest(alice.ID, alice.Name))
	if err != nil {
		t.Fatal(err)
	}
	code := certificate.Group(c.Code)
	me := func() (byToken, byCookie int) {
		return ts.do(t, "GET", "/api/me", token, nil).status, ts.do(t, "GET", "/api/me", "", nil, browser.headers(false)...).status
	}
	if tok, cookie := me(); tok != 200 || cookie != 200 {
		t.Fatalf("before: token %d, cookie %d", tok, cookie)
	}

	// Deactivate: everything of theirs stops at once.
	var v userView
	r := ts.do(t, "POST", "/api/users/"+alice.ID+"/deactivate", admin, nil)
	r.json(t, &v)
	if r.status != 200 || v.State != "deactivated" || *v.Active || v.Deactivated.IsZero() {
		t.Fatalf("deactivate: %d %s", r.status, r.body)
	}
	if tok, cookie := me(); tok != 401 || cookie != 401 {
		t.Errorf("deactivated: token %d, cookie %d, want 401 and 401", tok, cookie)
	}
	if s, err := ts.api.Labs.Session(ctx, lab.Actor{SeeAll: true}, sessionID); err != nil || s.State != lab.Ended {
		t.Errorf("their lab session: %+v %v, want it ended", s, err)
	}
	if _, r := ts.signIn(t, "alice@example.com", matrixPassword); r.status != 401 {
		t.Errorf("a deactivated user signs in: %d", r.status)
	}
	var list []userView
	ts.do(t, "GET", "/api/users", admin, nil).json(t, &list)
	states := map[string]string{}
	for _, u := range list {
		states[u.ID] = u.State
	}
	if len(list) != 2 || states[alice.ID] != "deactivated" || states[root.ID] != "active" {
		t.Errorf("list: %+v", list)
	}

	// Activate: the same password and token work again.
	r = ts.do(t, "POST", "/api/users/"+alice.ID+"/activate", admin, nil)
	r.json(t, &v)
	if r.status != 200 || v.State != "active" || !*v.Active {
		t.Fatalf("activate: %d %s", r.status, r.body)
	}
	if tok, _ := me(); tok != 200 {
		t.Errorf("activated: token %d", tok)
	}

	// The last admin stays.
	for _, call := range [][2]string{{"POST", "/api/users/" + root.ID + "/deactivate"}, {"DELETE", "/api/users/" + root.ID}} {
		if r := ts.do(t, call[0], call[1], admin, nil); r.status != 409 {
			t.Errorf("%s the last admin: %d %s", call[0], r.status, r.body)
		}
	}

	// Delete: gone from the list, the token refused, the certificate kept.
	ts.readySession(t, token)
	if r := ts.do(t, "DELETE", "/api/users/"+alice.ID, admin, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if tok, _ := me(); tok != 401 {
		t.Errorf("deleted: token %d", tok)
	}
	if live, _ := ts.api.Labs.Sessions(ctx, lab.Actor{User: alice.ID}, true); len(live) != 0 {
		t.Errorf("a deleted user's sessions live on: %d", len(live))
	}
	list = nil
	ts.do(t, "GET", "/api/users", admin, nil).json(t, &list)
	if len(list) != 1 || list[0].ID != root.ID {
		t.Errorf("list after delete: %+v", list)
	}
	var cv certificateView
	r = ts.do(t, "GET", "/api/certificates/"+code, "", nil)
	r.json(t, &cv)
	if r.status != 200 || cv.Status != certificate.Valid || cv.Holder != "张伟" {
		t.Errorf("the certificate after the delete: %d %s", r.status, r.body)
	}
	for _, call := range [][2]string{{"DELETE", "/api/users/" + alice.ID}, {"POST", "/api/users/" + alice.ID + "/activate"},
		{"POST", "/api/users/nobody/deactivate"}, {"PATCH", "/api/users/" + alice.ID}} {
		body := []byte(nil)
		if call[0] == "PATCH" {
			body = []byte(`{"role":"admin"}`)
		}
		if r := ts.do(t, call[0], call[1], admin, body); r.status != 404 {
			t.Errorf("%s %s: %d %s, want 404", call[0], call[1], r.status, r.body)
		}
	}
}

// BenchmarkBearerAccountCheck: what reading the account on each bearer
// request (so a deactivated user's token stops at once) costs, against the
// same request for a token with no account check.
func BenchmarkBearerAccountCheck(b *testing.B) {
	ts := newTestServer(b)
	acc, _ := ts.api.Accounts.Add(context.Background(), "alice@example.com", "Alice", auth.Trainee, matrixPassword)
	tok, _ := ts.tokens.Issue(auth.User{ID: acc.ID, Role: auth.Trainee}, time.Hour)
	for _, check := range []bool{false, true} {
		name := "without"
		if check {
			name = "with"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				req, _ := http.NewRequest("GET", "/api/labs", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				if check {
					if _, err := ts.api.authenticate(req); err != nil {
						b.Fatal(err)
					}
				} else if _, err := ts.api.Tokens.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A terminal ticket issued before its user was deactivated opens nothing,
// even while the session still runs (deactivated from the CLI, beside labd).
func TestTicketOfDeactivatedUser(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.api.Accounts.Add(ctx, "root@example.com", "Root", auth.Admin, matrixPassword)
	alice, _ := ts.api.Accounts.Add(ctx, "alice@example.com", "Alice", auth.Trainee, matrixPassword)
	token := ts.token(t, alice.ID, auth.Trainee)
	id := ts.readySession(t, token)
	var tk struct{ Ticket string }
	ts.do(t, "POST", "/api/sessions/"+id+"/nodes/node1/ticket", token, nil).json(t, &tk)
	if _, err := ts.api.Accounts.Deactivate(ctx, alice.ID); err != nil { // as the CLI does: the session stays
		t.Fatal(err)
	}
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/sessions/" + id + "/nodes/node1/terminal"
	c, resp, err := terminal.Dial(ctx, url, tk.Ticket, nil)
	if c != nil {
		c.Close()
	}
	if resp == nil || resp.StatusCode != 401 {
		t.Errorf("the ticket of a deactivated user: %v %v, want 401", resp, err)
	}
}

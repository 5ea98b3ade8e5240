package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/class"
	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/terminal"
)

// accounts is a hand-written fake of class.Accounts (the real adapter over
// user accounts is tested in package main): a trainee has an account once
// added.
type accounts struct {
	mu    sync.Mutex
	users map[string]string // email -> user id
}

func (a *accounts) add(email, user string) {
	a.mu.Lock()
	a.users[email] = user
	a.mu.Unlock()
}

func (a *accounts) Invite(ctx context.Context, email, name, classID string) (string, error) {
	return "/zh/invite/#tok-" + email, nil
}

func (a *accounts) Users(ctx context.Context, emails []string) (map[string]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]string{}
	for _, e := range emails {
		if id, ok := a.users[e]; ok {
			out[e] = id
		}
	}
	return out, nil
}

func classBody(title string) []byte {
	now := time.Now().UTC()
	b, _ := json.Marshal(map[string]any{
		"title": title, "course": "ceph-ops", "labs": []string{"demo", "other"},
		"start": now.Add(-time.Hour), "end": now.Add(7 * time.Hour), "capacity": 30, "stuck_after": "10m",
	})
	return b
}

// classWith creates a class as token's lecturer and imports roster into it.
func (ts *testServer) classWith(t *testing.T, token, roster string) string {
	t.Helper()
	r := ts.do(t, "POST", "/api/classes", token, classBody("Ceph ops, week 48"))
	if r.status != http.StatusCreated {
		t.Fatalf("create class: %d %s", r.status, r.body)
	}
	var c classView
	r.json(t, &c)
	if roster != "" {
		r = ts.do(t, "POST", "/api/classes/"+c.ID+"/roster", token, []byte(roster), "Content-Type", "text/csv")
		if r.status != http.StatusCreated {
			t.Fatalf("import roster: %d %s", r.status, r.body)
		}
	}
	return c.ID
}

type progressBody struct {
	Class    classView
	Labs     []classLabView
	Trainees []struct {
		Name, Email, User string
		Stuck             bool
		Passed            []string
		LastActivity      time.Time `json:"last_activity"`
		Sessions          []struct {
			ID          string
			Lab         string
			State       lab.State
			Steps       []stepView
			StepsPassed int `json:"steps_passed"`
			StepsTotal  int `json:"steps_total"`
		}
	}
}

func TestClasses(t *testing.T) {
	ts := newTestServer(t)
	lena := ts.token(t, "lena", auth.Lecturer)
	lars := ts.token(t, "lars", auth.Lecturer)
	root := ts.token(t, "root", auth.Admin)
	ada := ts.token(t, "u-ada", auth.Trainee)

	// Create and read back.
	r := ts.do(t, "POST", "/api/classes", lena, classBody("Ceph ops, week 48"))
	var c classView
	r.json(t, &c)
	if r.status != http.StatusCreated || c.ID == "" || c.Lecturer != "lena" || time.Duration(c.StuckAfter) != 10*time.Minute ||
		r.header.Get("Location") != "/api/classes/"+c.ID {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if !strings.Contains(string(r.body), `"stuck_after":"10m0s"`) {
		t.Errorf("stuck_after is not a duration string: %s", r.body)
	}
	var got classView
	ts.do(t, "GET", "/api/classes/"+c.ID, lena, nil).json(t, &got)
	if got.Title != "Ceph ops, week 48" || !slices.Equal(got.Labs, []string{"demo", "other"}) || got.Capacity != 30 {
		t.Errorf("get: %+v", got)
	}
	ts.classWith(t, lars, "")
	for _, tc := range []struct {
		token string
		n     int
	}{{lena, 1}, {lars, 1}, {root, 2}} {
		var list []classView
		ts.do(t, "GET", "/api/classes", tc.token, nil).json(t, &list)
		if len(list) != tc.n {
			t.Errorf("list: %d classes, want %d", len(list), tc.n)
		}
	}

	// A roster with a bad line: 400 naming every bad line, nothing imported.
	r = ts.do(t, "POST", "/api/classes/"+c.ID+"/roster", lena,
		[]byte("name,email\nAda,ada@example.com\nBob,bob-at-example\n,cy@example.com\n"), "Content-Type", "text/csv; charset=utf-8")
	var bad struct {
		Error struct {
			Code, Message string
			Details       []class.LineError
		}
	}
	r.json(t, &bad)
	if r.status != 400 || bad.Error.Code != "invalid_roster" || len(bad.Error.Details) != 2 ||
		bad.Error.Details[0] != (class.LineError{Line: 3, Field: "email", Message: `"bob-at-example" is not an e-mail address`}) ||
		bad.Error.Details[1].Line != 4 || bad.Error.Details[1].Field != "name" ||
		!strings.Contains(bad.Error.Message, "line 3: email") {
		t.Fatalf("bad roster: %d %s", r.status, r.body)
	}
	var roster []memberView
	ts.do(t, "GET", "/api/classes/"+c.ID+"/roster", lena, nil).json(t, &roster)
	if len(roster) != 0 {
		t.Fatalf("a refused roster left %d members", len(roster))
	}
	if r := ts.do(t, "POST", "/api/classes/"+c.ID+"/roster", lena, []byte("Ada,ada@example.com\n")); r.status != 415 {
		t.Errorf("roster as JSON: %d %s", r.status, r.body)
	}

	// A good roster: the invitation links, absolute, in the page's language.
	r = ts.do(t, "POST", "/api/classes/"+c.ID+"/roster?lang=en", lena,
		[]byte("\ufeffname,email\nAda,ada@example.com\nBob,bob@example.com\n"), "Content-Type", "text/csv")
	var invs struct{ Invitations []invitationView }
	r.json(t, &invs)
	if r.status != 201 || len(invs.Invitations) != 2 || invs.Invitations[0].URL != ts.URL+"/en/invite/#tok-ada@example.com" {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	ts.acc.add("ada@example.com", "u-ada")
	ts.do(t, "GET", "/api/classes/"+c.ID+"/roster", lena, nil).json(t, &roster)
	if len(roster) != 2 || roster[0].User != "u-ada" || roster[1].User != "" || roster[1].Name != "Bob" {
		t.Errorf("roster: %+v", roster)
	}

	// Progress: ada works in demo and passes a step; bob has no account yet.
	id := ts.readySession(t, ada)
	ts.rt.Exec(context.Background(), id, "node1", lab.Command{Script: "touch one"})
	ts.do(t, "POST", "/api/sessions/"+id+"/steps/one/check", ada, nil)
	var p progressBody
	r = ts.do(t, "GET", "/api/classes/"+c.ID+"/progress", lena, nil)
	r.json(t, &p)
	if r.status != 200 || len(p.Trainees) != 2 || len(p.Labs) != 2 || p.Labs[0].Steps != 2 || p.Class.ID != c.ID {
		t.Fatalf("progress: %d %s", r.status, r.body)
	}
	a := p.Trainees[0]
	if a.User != "u-ada" || a.Stuck || len(a.Sessions) != 1 || a.Sessions[0].ID != id || a.Sessions[0].StepsPassed != 1 ||
		a.Sessions[0].StepsTotal != 2 || !a.Sessions[0].Steps[0].Passed || a.Sessions[0].State != lab.Ready || a.LastActivity.IsZero() {
		t.Errorf("ada's progress: %+v", a)
	}
	if b := p.Trainees[1]; b.Email != "bob@example.com" || b.User != "" || len(b.Sessions) != 0 || b.Passed == nil {
		t.Errorf("bob's progress: %+v", b)
	}
	// Twenty minutes on without another step: ada is stuck.
	ts.api.Classes.Now = func() time.Time { return time.Now().Add(20 * time.Minute) }
	ts.do(t, "GET", "/api/classes/"+c.ID+"/progress", lena, nil).json(t, &p)
	if !p.Trainees[0].Stuck {
		t.Errorf("ada is not stuck after 20 minutes without a step")
	}
	ts.api.Classes.Now = nil

	// Another lecturer: 404 everywhere; a trainee: 403; an admin may.
	for _, tc := range []struct {
		token, method, path string
		body                []byte
		status              int
	}{
		{lars, "GET", "/api/classes/" + c.ID, nil, 404},
		{lars, "GET", "/api/classes/" + c.ID + "/roster", nil, 404},
		{lars, "GET", "/api/classes/" + c.ID + "/progress", nil, 404},
		{lars, "POST", "/api/classes/" + c.ID + "/roster", []byte("Eve,eve@example.com\n"), 404},
		{ada, "GET", "/api/classes", nil, 403},
		{ada, "GET", "/api/classes/" + c.ID + "/progress", nil, 403},
		{ada, "POST", "/api/classes", classBody("mine"), 403},
		{root, "GET", "/api/classes/" + c.ID + "/progress", nil, 200},
		{lena, "GET", "/api/classes/nope", nil, 404},
	} {
		var h []string
		if tc.body != nil && tc.method == "POST" && strings.HasSuffix(tc.path, "/roster") {
			h = []string{"Content-Type", "text/csv"}
		}
		if r := ts.do(t, tc.method, tc.path, tc.token, tc.body, h...); r.status != tc.status {
			t.Errorf("%s %s: %d, want %d: %s", tc.method, tc.path, r.status, tc.status, r.body)
		}
	}
	ts.do(t, "GET", "/api/classes/"+c.ID+"/roster", lena, nil).json(t, &roster)
	if len(roster) != 2 {
		t.Errorf("roster has %d members after refused imports", len(roster))
	}
}

func TestCreateClassBadInput(t *testing.T) {
	ts := newTestServer(t)
	lena := ts.token(t, "lena", auth.Lecturer)
	for _, tc := range []struct {
		name, body, code, mention string
	}{
		{"no title", `{"course":"ceph-ops","labs":["demo"],"start":"2026-12-01T09:00:00Z","end":"2026-12-01T17:00:00Z","capacity":10}`, "invalid", "title"},
		{"unknown lab", `{"title":"T","course":"ceph-ops","labs":["nope"],"start":"2026-12-01T09:00:00Z","end":"2026-12-01T17:00:00Z","capacity":10}`, "invalid", "nope"},
		{"backwards", `{"title":"T","course":"ceph-ops","labs":["demo"],"start":"2026-12-01T17:00:00Z","end":"2026-12-01T09:00:00Z","capacity":10}`, "invalid", "window"},
		{"bad stuck_after", `{"title":"T","course":"ceph-ops","labs":["demo"],"start":"2026-12-01T09:00:00Z","end":"2026-12-01T17:00:00Z","capacity":10,"stuck_after":"soon"}`, "invalid_json", "soon"},
		{"bad time", `{"title":"T","course":"ceph-ops","labs":["demo"],"start":"tomorrow","end":"2026-12-01T17:00:00Z","capacity":10}`, "invalid_json", "tomorrow"},
		{"unknown field", `{"title":"T","room":"A"}`, "invalid_json", "room"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do(t, "POST", "/api/classes", lena, []byte(tc.body))
			if r.status != 400 || r.errorCode(t) != tc.code || !strings.Contains(string(r.body), tc.mention) {
				t.Errorf("%d %s, want 400 %s mentioning %q", r.status, r.body, tc.code, tc.mention)
			}
		})
	}
	var list []classView
	ts.do(t, "GET", "/api/classes", lena, nil).json(t, &list)
	if len(list) != 0 {
		t.Errorf("%d classes stored from bad input", len(list))
	}
}

// TestLecturerWatchesOnlyTrainees: a lecturer observes, replays and injects
// faults for the trainees on their rosters and nobody else; they do not act
// in a trainee's session.
func TestLecturerWatchesOnlyTrainees(t *testing.T) {
	ts := newTestServer(t)
	lena := ts.token(t, "lena", auth.Lecturer)
	alice, bob := ts.token(t, "alice", auth.Trainee), ts.token(t, "bob", auth.Trainee)
	ts.classWith(t, lena, "Alice,alice@example.com\n")
	ts.acc.add("alice@example.com", "alice")
	ts.acc.add("bob@example.com", "bob") // has an account, on no roster of lena's
	mine, other := ts.readySession(t, alice), ts.readySession(t, bob)
	openTerminal(t, ts, alice, mine)
	openTerminal(t, ts, bob, other)

	for _, tc := range []struct {
		method, path string
		body         []byte
		allowed      int
	}{
		{"GET", "/api/sessions/%s", nil, 200},
		{"POST", "/api/sessions/%s/nodes/node1/ticket", nil, 201},
		{"GET", "/api/sessions/%s/recordings", nil, 200},
		{"GET", "/api/sessions/%s/recordings/node1-1.cast", nil, 200},
		{"POST", "/api/sessions/%s/faults", []byte(`{"node":"node1","action":"disconnect"}`), 204},
	} {
		if r := ts.do(t, tc.method, strings.Replace(tc.path, "%s", mine, 1), lena, tc.body); r.status != tc.allowed {
			t.Errorf("%s %s of a trainee: %d, want %d: %s", tc.method, tc.path, r.status, tc.allowed, r.body)
		}
		if r := ts.do(t, tc.method, strings.Replace(tc.path, "%s", other, 1), lena, tc.body); r.status != 404 {
			t.Errorf("%s %s of someone else: %d, want 404: %s", tc.method, tc.path, r.status, r.body)
		}
	}
	// Watching is not acting: a lecturer does not check, reset or end a trainee's lab.
	for _, p := range []string{"/steps/one/check", "/reset", "/extend"} {
		if r := ts.do(t, "POST", "/api/sessions/"+mine+p, lena, nil); r.status != 404 {
			t.Errorf("POST %s as the lecturer: %d, want 404", p, r.status)
		}
	}
	if r := ts.do(t, "DELETE", "/api/sessions/"+mine, lena, nil); r.status != 404 {
		t.Errorf("DELETE as the lecturer: %d, want 404", r.status)
	}
	var list []sessionView
	ts.do(t, "GET", "/api/sessions?trainees=1", lena, nil).json(t, &list)
	if len(list) != 1 || list[0].ID != mine {
		t.Errorf("the lecturer's list with trainees: %+v, want alice's only", list)
	}
	ts.do(t, "GET", "/api/sessions", lena, nil).json(t, &list)
	if len(list) != 0 {
		t.Errorf("the lecturer's own sessions: %+v, want none", list)
	}

	// The terminal opens read-only: the hello says observer, and the
	// lecturer's keystrokes never reach the shell.
	var tk struct{ Ticket, Role string }
	ts.do(t, "POST", "/api/sessions/"+mine+"/nodes/node1/ticket", lena, nil).json(t, &tk)
	if tk.Role != "observer" {
		t.Fatalf("ticket role %q", tk.Role)
	}
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/sessions/" + mine + "/nodes/node1/terminal"
	obs, _, err := terminal.Dial(context.Background(), url, tk.Ticket, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	if obs.Hello.Role != "observer" {
		t.Errorf("hello role %q", obs.Hello.Role)
	}
	obs.Send(terminal.Input([]byte("lecturer-typed")))
	var own struct{ Ticket string }
	ts.do(t, "POST", "/api/sessions/"+mine+"/nodes/node1/ticket", alice, nil).json(t, &own)
	w, _, err := terminal.Dial(context.Background(), url, own.Ticket, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Send(terminal.Input([]byte("trainee-typed")))
	// The observer sees what the trainee typed, echoed, and never its own input.
	var seen strings.Builder
	for !strings.Contains(seen.String(), "trainee-typed") {
		f, err := obs.Read()
		if err != nil {
			t.Fatalf("observer read: %v (seen %q)", err, seen.String())
		}
		if f.Type == terminal.TypeOutput {
			seen.Write(f.Data)
		}
	}
	if strings.Contains(seen.String(), "lecturer-typed") {
		t.Errorf("the observer's input reached the shell: %q", seen.String())
	}

	// Another lecturer, with no class of theirs listing alice, may not watch her.
	if r := ts.do(t, "POST", "/api/sessions/"+mine+"/nodes/node1/ticket", ts.token(t, "lars", auth.Lecturer), nil); r.status != 404 {
		t.Errorf("another lecturer's ticket: %d, want 404", r.status)
	}
}

// TestClassCertificates: bulk issuance for a class issues the certificate
// of every trainee who completed the program, says what the others miss,
// and is idempotent.
func TestClassCertificates(t *testing.T) {
	ts := newTestServer(t)
	lee := ts.token(t, "lee", auth.Lecturer)
	id := ts.classWith(t, lee, "Ada,ada@example.com\nBob,bob@example.com\nCy,cy@example.com\n")
	ts.acc.add("ada@example.com", "u-ada")
	ts.acc.add("bob@example.com", "u-bob")
	completeProgram(t, ts, "u-ada")

	issue := func() map[string]classCertificateView {
		t.Helper()
		r := ts.do(t, "POST", "/api/classes/"+id+"/certificates", lee, []byte(`{"program":"demo"}`))
		if r.status != http.StatusOK {
			t.Fatalf("issue: %d %s", r.status, r.body)
		}
		var out []classCertificateView
		r.json(t, &out)
		byEmail := map[string]classCertificateView{}
		for _, v := range out {
			byEmail[v.Email] = v
		}
		return byEmail
	}
	first := issue()
	if a := first["ada@example.com"]; a.Status != "issued" || a.Code == "" || a.URL != "/v/"+a.Code {
		t.Errorf("ada: %+v", a)
	}
	if b := first["bob@example.com"]; b.Status != "not_eligible" || len(b.Missing) == 0 {
		t.Errorf("bob: %+v", b)
	}
	if c := first["cy@example.com"]; c.Status != "no_account" {
		t.Errorf("cy: %+v", c)
	}
	again := issue()
	if a := again["ada@example.com"]; a.Status != "held" || a.Code != first["ada@example.com"].Code {
		t.Errorf("issued twice: %+v then %+v", first["ada@example.com"], a)
	}
	for _, bad := range []string{`{"program":"nope"}`, `{}`} {
		if r := ts.do(t, "POST", "/api/classes/"+id+"/certificates", lee, []byte(bad)); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
	other := ts.token(t, "olga", auth.Lecturer)
	if r := ts.do(t, "POST", "/api/classes/"+id+"/certificates", other, []byte(`{"program":"demo"}`)); r.status != http.StatusNotFound {
		t.Errorf("another lecturer: %d", r.status)
	}
}

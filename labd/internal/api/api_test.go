package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/certificate"
	"github.com/xsky-academy/academy/labd/internal/class"
	"github.com/xsky-academy/academy/labd/internal/exam"
	"github.com/xsky-academy/academy/labd/internal/exam/examtest"
	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/lab/labtest"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
	"github.com/xsky-academy/academy/labd/internal/terminal"
)

type testServer struct {
	*httptest.Server
	api    *Server
	tokens *auth.Tokens
	rt     *labtest.Runtime
	acc    *accounts
	db     *sqlite.DB
	issuer *examtest.Issuer
}

func newTestServer(t testing.TB, cfg ...lab.Config) *testServer {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rt := labtest.NewRuntime()
	reg := prometheus.NewRegistry()
	c := lab.Config{MaxPerUser: 2}
	if len(cfg) > 0 {
		c = cfg[0]
	}
	c.Metrics = NewMetrics(reg)
	svc := lab.NewService(c, lab.NewCatalog(labtest.Lab("demo"), labtest.Lab("other"), labtest.Lab("third")), rt, db)
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	<-svc.Recovered() // an empty runtime and store: at once
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	tokens := auth.NewTokens(key)
	terms := terminal.NewManager(rt, t.TempDir(), time.Minute, svc.Touch, nil)
	t.Cleanup(terms.Close)
	// Cheap argon2id parameters: these tests are about HTTP, not hashing cost.
	users, err := auth.NewAccounts(db, auth.Options{Params: auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := certificate.OpenKeys(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatal(err)
	}
	certs := certificate.NewService(db, keys, certificate.Issuer{URL: testSiteURL, Name: "XSKY Academy", NameZH: "XSKY 学院"})
	issuer := examtest.NewIssuer()
	exams := &exam.Service{
		Programs: exam.NewPrograms(examtest.Program("demo", []string{"demo"}, 8, 5, 5, 0)),
		Labs:     svc.Catalog(), Store: db, Results: db, Issuer: issuer,
	}
	acc := &accounts{users: map[string]string{}}
	classes := &class.Service{Store: db, Accounts: acc, Labs: svc,
		LabExists: func(id string) bool { _, ok := svc.Catalog().Lab(id); return ok }}
	s := &Server{Labs: svc, Classes: classes, Exams: exams, Terminals: terms, Tickets: auth.NewTickets(), Tokens: tokens, Registry: reg,
		Accounts: users, Ready: map[string]Checker{"database": db}, Certificates: certs, PDF: &certificate.PDF{}}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return &testServer{Server: ts, api: s, tokens: tokens, rt: rt, db: db, issuer: issuer, acc: acc}
}

func (ts *testServer) token(t *testing.T, user string, role auth.Role) string {
	tok, err := ts.tokens.Issue(auth.User{ID: user, Role: role}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
}

// errorCode returns the code of a JSON error body, failing if the body is not one.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	r.json(t, &e)
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not a JSON error: %s", r.body)
	}
	return e.Error.Code
}

func (ts *testServer) do(t *testing.T, method, path, token string, body []byte, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// readySession creates a session of demo for token and waits until it is ready.
func (ts *testServer) readySession(t *testing.T, token string) string {
	t.Helper()
	r := ts.do(t, "POST", "/api/sessions", token, []byte(`{"lab":"demo"}`))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var s sessionView
	r.json(t, &s)
	r = ts.do(t, "GET", "/api/sessions/"+s.ID+"?wait=10s", token, nil)
	r.json(t, &s)
	if s.State != lab.Ready {
		t.Fatalf("session %s: %s", s.State, r.body)
	}
	return s.ID
}

func TestSessionFlow(t *testing.T) {
	ts := newTestServer(t)
	alice := ts.token(t, "alice", auth.Trainee)

	r := ts.do(t, "GET", "/api/labs", alice, nil)
	var labs []labView
	r.json(t, &labs)
	if r.status != 200 || len(labs) != 3 || labs[0].ID != "demo" || labs[0].Steps[0].ID != "one" || labs[0].Duration != "10m0s" {
		t.Fatalf("labs: %d %s", r.status, r.body)
	}
	id := ts.readySession(t, alice)

	r = ts.do(t, "POST", "/api/sessions/"+id+"/steps/one/check", alice, nil)
	var check struct {
		Passed bool
		Output string
	}
	r.json(t, &check)
	if r.status != 200 || check.Passed || check.Output != "FAIL: one is missing" {
		t.Fatalf("check: %d %s", r.status, r.body)
	}
	ts.rt.Exec(context.Background(), id, "node1", lab.Command{Script: "touch one"})
	r = ts.do(t, "POST", "/api/sessions/"+id+"/steps/one/check", alice, nil)
	r.json(t, &check)
	if !check.Passed {
		t.Fatalf("check after solution: %s", r.body)
	}
	var s sessionView
	ts.do(t, "GET", "/api/sessions/"+id, alice, nil).json(t, &s)
	if !s.Steps[0].Passed || s.Steps[1].Passed || s.Nodes[0].Address == "" || s.ExpiresAt.IsZero() {
		t.Errorf("session: %+v", s)
	}
	// POSTing the same lab again gives back the live session with 200.
	r = ts.do(t, "POST", "/api/sessions", alice, []byte(`{"lab":"demo"}`))
	r.json(t, &s)
	if r.status != 200 || s.ID != id {
		t.Errorf("second create: %d %s", r.status, r.body)
	}
	r = ts.do(t, "POST", "/api/sessions/"+id+"/extend", alice, nil)
	if r.status != 200 {
		t.Errorf("extend: %d %s", r.status, r.body)
	}
	r = ts.do(t, "POST", "/api/sessions/"+id+"/reset", alice, nil)
	if r.status != http.StatusAccepted {
		t.Errorf("reset: %d %s", r.status, r.body)
	}
	ts.do(t, "GET", "/api/sessions/"+id+"?wait=10s", alice, nil).json(t, &s)
	if s.State != lab.Ready || s.Steps[0].Passed {
		t.Errorf("after reset: %+v", s)
	}
	var list []sessionView
	ts.do(t, "GET", "/api/sessions", alice, nil).json(t, &list)
	if len(list) != 1 || list[0].ID != id {
		t.Errorf("list: %+v", list)
	}
	r = ts.do(t, "DELETE", "/api/sessions/"+id, alice, nil)
	if r.status != http.StatusNoContent || ts.rt.Count() != 0 {
		t.Errorf("delete: %d, %d environments left", r.status, ts.rt.Count())
	}
	ts.do(t, "GET", "/api/sessions/"+id, alice, nil).json(t, &s)
	if s.State != lab.Ended || s.EndedAt.IsZero() {
		t.Errorf("after delete: %+v", s)
	}
}

func TestBadInput(t *testing.T) {
	ts := newTestServer(t)
	alice := ts.token(t, "alice", auth.Trainee)
	id := ts.readySession(t, alice)
	ended := ts.readySession(t, ts.token(t, "carol", auth.Trainee))
	ts.do(t, "DELETE", "/api/sessions/"+ended, ts.token(t, "carol", auth.Trainee), nil)
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	forged, _ := auth.NewTokens(otherKey).Issue(auth.User{ID: "alice", Role: auth.Admin}, time.Hour)

	for _, tc := range []struct {
		name         string
		method, path string
		token        string
		body         []byte
		header       []string
		status       int
		code         string
	}{
		{"malformed JSON", "POST", "/api/sessions", alice, []byte(`{"lab":`), nil, 400, "invalid_json"},
		{"not an object", "POST", "/api/sessions", alice, []byte(`["demo"]`), nil, 400, "invalid_json"},
		{"unknown field", "POST", "/api/sessions", alice, []byte(`{"lab":"demo","x":1}`), nil, 400, "invalid_json"},
		{"two values", "POST", "/api/sessions", alice, []byte(`{"lab":"demo"}{}`), nil, 400, "invalid_json"},
		{"empty body", "POST", "/api/sessions", alice, []byte{}, nil, 400, "invalid_json"},
		{"no lab", "POST", "/api/sessions", alice, []byte(`{}`), nil, 400, "invalid"},
		{"form body", "POST", "/api/sessions", alice, []byte(`lab=demo`), []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"oversize body", "POST", "/api/sessions", alice, []byte(`{"lab":"` + strings.Repeat("x", maxBody) + `"}`), nil, 413, "too_large"},
		{"unknown lab", "POST", "/api/sessions", alice, []byte(`{"lab":"nope"}`), nil, 404, "not_found"},
		{"unknown lab page", "GET", "/api/labs/nope", alice, nil, nil, 404, "not_found"},
		{"unknown session", "GET", "/api/sessions/nope", alice, nil, nil, 404, "not_found"},
		{"unknown step", "POST", "/api/sessions/" + id + "/steps/nope/check", alice, nil, nil, 404, "not_found"},
		{"check on ended session", "POST", "/api/sessions/" + ended + "/steps/one/check", ts.token(t, "carol", auth.Trainee), nil, nil, 409, "conflict"},
		{"bad wait", "GET", "/api/sessions/" + id + "?wait=forever", alice, nil, nil, 400, "invalid"},
		{"no token", "GET", "/api/labs", "", nil, nil, 401, "unauthorized"},
		{"not bearer", "GET", "/api/labs", "", nil, []string{"Authorization", "Basic YWxpY2U6eA=="}, 401, "unauthorized"},
		{"garbage token", "GET", "/api/labs", "not.a.token", nil, nil, 401, "unauthorized"},
		{"forged token", "GET", "/api/sessions", forged, nil, nil, 401, "unauthorized"},
		{"metrics as trainee", "GET", "/metrics", alice, nil, nil, 403, "forbidden"},
		{"unknown route", "GET", "/api/nope", alice, nil, nil, 404, "not_found"},
		{"wrong method", "PUT", "/api/labs", alice, nil, nil, 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do(t, tc.method, tc.path, tc.token, tc.body, tc.header...)
			if r.status != tc.status {
				t.Errorf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if got := r.errorCode(t); got != tc.code {
				t.Errorf("code %q, want %q", got, tc.code)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("content type %q", ct)
			}
		})
	}
	// Nothing was left half-made: alice still has exactly her one session.
	var list []sessionView
	ts.do(t, "GET", "/api/sessions?live=1", alice, nil).json(t, &list)
	if len(list) != 1 {
		t.Errorf("alice has %d live sessions", len(list))
	}
}

func TestLimitsAnswer429(t *testing.T) {
	ts := newTestServer(t, lab.Config{MaxPerUser: 2, MaxSessions: 3})
	alice := ts.token(t, "alice", auth.Trainee)
	ts.readySession(t, alice)
	ts.do(t, "POST", "/api/sessions", alice, []byte(`{"lab":"other"}`))
	r := ts.do(t, "POST", "/api/sessions", alice, []byte(`{"lab":"third"}`))
	if r.status != 429 || r.errorCode(t) != "limit_reached" || !strings.Contains(string(r.body), "already have 2") {
		t.Errorf("per-user limit: %d %s", r.status, r.body)
	}
	// When alice's first session ends by itself: its idle timeout (20m).
	if ra := r.header.Get("Retry-After"); ra != "1200" {
		t.Errorf("per-user Retry-After %q, want 1200", ra)
	}
	ts.readySession(t, ts.token(t, "bob", auth.Trainee))
	// Over the global limit: a place in line.
	carol := ts.token(t, "carol", auth.Trainee)
	r = ts.do(t, "POST", "/api/sessions", carol, []byte(`{"lab":"demo"}`))
	var q sessionView
	r.json(t, &q)
	if r.status != 201 || q.State != lab.Queued || q.Queue == nil || q.Queue.Position != 1 || q.Queue.EstimateSeconds <= 0 {
		t.Errorf("global limit: %d %s", r.status, r.body)
	}
	// Leaving the line.
	if r := ts.do(t, "DELETE", "/api/sessions/"+q.ID, carol, nil); r.status != 204 {
		t.Errorf("leave the line: %d %s", r.status, r.body)
	}
}

func TestMetricsAndHealth(t *testing.T) {
	ts := newTestServer(t)
	alice := ts.token(t, "alice", auth.Trainee)
	id := ts.readySession(t, alice)
	ts.do(t, "POST", "/api/sessions/"+id+"/steps/one/check", alice, nil)
	r := ts.do(t, "GET", "/metrics", ts.token(t, "root", auth.Admin), nil)
	for _, want := range []string{
		`labd_sessions{state="ready"} 1`,
		`labd_provision_seconds_count{lab="demo",result="ok"} 1`,
		`labd_check_seconds_count{lab="demo",result="failed"} 1`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if r := ts.do(t, "GET", "/healthz", "", nil); r.status != 200 {
		t.Errorf("healthz %d", r.status)
	}
	var ready struct {
		Ready  bool
		Checks map[string]string
	}
	ts.do(t, "GET", "/readyz", "", nil).json(t, &ready)
	if !ready.Ready || ready.Checks["database"] != "ok" {
		t.Errorf("readyz: %+v", ready)
	}
}

// openTerminal opens (and closes) the owner's terminal on node1 of session id.
func openTerminal(t *testing.T, ts *testServer, token, id string) {
	t.Helper()
	var tk struct{ Ticket string }
	if r := ts.do(t, "POST", "/api/sessions/"+id+"/nodes/node1/ticket", token, nil); r.status != 201 {
		t.Fatalf("ticket: %d %s", r.status, r.body)
	} else {
		r.json(t, &tk)
	}
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/sessions/" + id + "/nodes/node1/terminal"
	c, _, err := terminal.Dial(context.Background(), url, tk.Ticket, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Send(terminal.Input([]byte("hi")))
	for {
		f, err := c.Read()
		if err != nil {
			t.Fatal(err)
		}
		if f.Type == terminal.TypeOutput {
			break
		}
	}
	c.Close()
}

package api

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/certificate"
	"github.com/xsky-academy/academy/labd/internal/class"
	"github.com/xsky-academy/academy/labd/internal/exam/examtest"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// A matrix caller: nobody, or an account of some role signed in by a bearer
// token or by the browser's cookie (with its CSRF header).
type caller struct {
	name   string
	acc    *auth.Account // nil for nobody
	cookie bool
}

func (c caller) role() auth.Role {
	if c.acc == nil {
		return ""
	}
	return c.acc.Role
}

// credentials returns the token and extra headers one call of c sends. A
// cookie caller signs in afresh each time, since POST /api/logout ends it.
func (c caller) credentials(t *testing.T, ts *testServer) (string, []string) {
	t.Helper()
	switch {
	case c.acc == nil:
		return "", nil
	case !c.cookie:
		return ts.token(t, c.acc.ID, c.acc.Role), nil
	}
	_, s, err := ts.api.Accounts.Login(context.Background(), c.acc.Email, matrixPassword, "matrix")
	if err != nil {
		t.Fatal(err)
	}
	return "", []string{"Cookie", sessionCookie + "=" + s.ID + "; " + csrfCookie + "=" + s.CSRF, csrfHeader, s.CSRF}
}

const matrixPassword = "matrix password"

// fixture says, for one route, how to call it on a resource that belongs to
// a given account, and who may reach that resource beyond what the route's
// Access says. Every route in routes() must have one: a route added
// without it fails TestAuthorizationMatrix.
type fixture struct {
	// access repeats who may call the route, independently of routes.go: a
	// change of either alone fails the test, so access changes are deliberate.
	access Access
	// call returns the path (parameters filled in) and the body of a call on
	// a resource owned by owner.
	call func(t *testing.T, ts *testServer, owner *auth.Account) (path string, body []byte)
	// reach reports whether a caller of role may act on the resource; own
	// says whether it is theirs. nil: anyone the Access lets in.
	reach func(role auth.Role, own bool) bool
	// denied is the status when reach is false; 404 for ids that must
	// reveal nothing.
	denied int
	// contentType of the body when it is not JSON.
	contentType string
}

var matrixSeq atomic.Int64

// sessionPath returns a fixture call making a ready session of owner and
// filling pattern's {id} (and the other parameters) for it.
func sessionPath(pattern string) func(t *testing.T, ts *testServer, owner *auth.Account) (string, []byte) {
	return func(t *testing.T, ts *testServer, owner *auth.Account) (string, []byte) {
		id := ts.readySession(t, ts.token(t, owner.ID, owner.Role))
		if strings.Contains(pattern, "{file}") {
			openTerminal(t, ts, ts.token(t, owner.ID, owner.Role), id)
		}
		var body []byte
		if strings.HasSuffix(pattern, "/faults") {
			body = []byte(`{"node":"node1","action":"disconnect"}`)
		}
		return strings.NewReplacer("{id}", id, "{step}", "one", "{node}", "node1", "{file}", "node1-1.cast").Replace(pattern), body
	}
}

func fixed(path, body string) func(*testing.T, *testServer, *auth.Account) (string, []byte) {
	return func(*testing.T, *testServer, *auth.Account) (string, []byte) {
		if body == "" {
			return path, nil
		}
		return path, []byte(body)
	}
}

// A lab session is its owner's; an admin reaches every session. A lecturer
// watches (terminals as an observer, recordings, faults) only the trainees
// on their rosters, which the stranger is not: TestLecturerWatchesOnlyTrainees
// has the lecturer's allowed cases. A class is its lecturer's.
var (
	ownerOrAdmin = func(role auth.Role, own bool) bool { return own || role == auth.Admin }
	watchers     = ownerOrAdmin
)

// classPath returns a fixture call making a class of owner's and filling
// pattern's {id} with it.
func classPath(pattern string) func(t *testing.T, ts *testServer, owner *auth.Account) (string, []byte) {
	return func(t *testing.T, ts *testServer, owner *auth.Account) (string, []byte) {
		now := time.Now()
		c, err := ts.api.Classes.Create(context.Background(), class.Who{User: owner.ID}, class.Class{Title: "Matrix",
			Course: "ceph-ops", Labs: []string{"demo"}, Start: now, End: now.Add(time.Hour), Capacity: 10})
		if err != nil {
			t.Fatal(err)
		}
		var body []byte
		if strings.HasSuffix(pattern, "/certificates") {
			body = []byte(`{"program":"demo"}`)
		}
		if strings.HasSuffix(pattern, "/roster") {
			n := matrixSeq.Add(1)
			body = fmt.Appendf(nil, "Trainee %d,t%d@example.com\n", n, n)
		}
		return strings.Replace(pattern, "{id}", c.ID, 1), body
	}
}

func matrixFixtures() map[string]fixture {
	f := map[string]fixture{
		"GET /healthz":                   {access: Public, call: fixed("/healthz", "")},
		"GET /readyz":                    {access: Public, call: fixed("/readyz", "")},
		"GET /metrics":                   {access: Roles(auth.Admin), call: fixed("/metrics", "")},
		"GET /api/labs":                  {access: Authenticated, call: fixed("/api/labs", "")},
		"GET /api/labs/{lab}":            {access: Authenticated, call: fixed("/api/labs/demo", "")},
		"POST /api/sessions":             {access: Authenticated, call: fixed("/api/sessions", `{"lab":"other"}`)},
		"GET /api/sessions":              {access: Authenticated, call: fixed("/api/sessions", "")},
		"POST /api/logout":               {access: Authenticated, call: fixed("/api/logout", "")},
		"GET /api/me":                    {access: Authenticated, call: fixed("/api/me", "")},
		"GET /api/users":                 {access: Roles(auth.Admin), call: fixed("/api/users", "")},
		"POST /api/sessions/{id}/faults": {access: Roles(auth.Lecturer, auth.Admin), call: sessionPath("/api/sessions/{id}/faults"), reach: watchers, denied: 404},
		"POST /api/login": {access: Public, call: func(t *testing.T, ts *testServer, _ *auth.Account) (string, []byte) {
			n := matrixSeq.Add(1)
			email := fmt.Sprintf("login%d@example.com", n)
			if _, err := ts.api.Accounts.Add(context.Background(), email, "L", auth.Trainee, matrixPassword); err != nil {
				t.Fatal(err)
			}
			return "/api/login", fmt.Appendf(nil, `{"email":%q,"password":%q}`, email, matrixPassword)
		}},
		"POST /api/invitations": {access: Roles(auth.Lecturer, auth.Admin), call: func(*testing.T, *testServer, *auth.Account) (string, []byte) {
			return "/api/invitations", fmt.Appendf(nil, `{"email":"inv%d@example.com","role":"trainee"}`, matrixSeq.Add(1))
		}},
		"POST /api/invitations/accept": {access: Public, call: func(t *testing.T, ts *testServer, _ *auth.Account) (string, []byte) {
			inv, err := ts.api.Accounts.Invite(context.Background(), auth.User{ID: "root", Role: auth.Admin},
				auth.InviteRequest{Email: fmt.Sprintf("acc%d@example.com", matrixSeq.Add(1)), Role: auth.Trainee})
			if err != nil {
				t.Fatal(err)
			}
			return "/api/invitations/accept", fmt.Appendf(nil, `{"token":%q,"password":%q}`, inv.Token, matrixPassword)
		}},
		// A user is the resource: own is the caller's own account. The body
		// keeps the role as it is, so the matrix changes nobody.
		"PATCH /api/users/{id}": {access: Roles(auth.Admin), call: func(t *testing.T, ts *testServer, owner *auth.Account) (string, []byte) {
			return "/api/users/" + owner.ID, fmt.Appendf(nil, `{"role":%q}`, owner.Role)
		}},
		// Deactivating and deleting act on a fresh account each time, so the
		// matrix's callers keep theirs.
		"POST /api/users/{id}/deactivate": {access: Roles(auth.Admin), call: freshUser("/api/users/{id}/deactivate", false)},
		"POST /api/users/{id}/activate":   {access: Roles(auth.Admin), call: freshUser("/api/users/{id}/activate", true)},
		"DELETE /api/users/{id}":          {access: Roles(auth.Admin), call: freshUser("/api/users/{id}", false)},
	}
	for _, p := range []string{"GET /api/sessions/{id}", "DELETE /api/sessions/{id}", "POST /api/sessions/{id}/steps/{step}/check",
		"POST /api/sessions/{id}/steps/{step}/enter", "POST /api/sessions/{id}/reset", "POST /api/sessions/{id}/extend"} {
		f[p] = fixture{access: Authenticated, call: sessionPath(strings.SplitN(p, " ", 2)[1]), reach: ownerOrAdmin, denied: 404}
	}
	for _, p := range []string{"POST /api/sessions/{id}/nodes/{node}/ticket", "GET /api/sessions/{id}/recordings",
		"GET /api/sessions/{id}/recordings/{file}"} {
		f[p] = fixture{access: Authenticated, call: sessionPath(strings.SplitN(p, " ", 2)[1]), reach: watchers, denied: 404}
	}
	f["POST /api/sessions/{id}/nodes/{node}/terminal/restart"] = fixture{access: Authenticated,
		call: sessionPath("/api/sessions/{id}/nodes/{node}/terminal/restart"), reach: ownerOrAdmin, denied: 404}
	lecturers := Roles(auth.Lecturer, auth.Admin)
	f["GET /api/classes"] = fixture{access: lecturers, call: fixed("/api/classes", "")}
	f["POST /api/classes"] = fixture{access: lecturers, call: func(*testing.T, *testServer, *auth.Account) (string, []byte) {
		return "/api/classes", classBody("Matrix")
	}}
	for _, p := range []string{"GET /api/classes/{id}", "GET /api/classes/{id}/roster", "GET /api/classes/{id}/progress",
		"POST /api/classes/{id}/end"} {
		f[p] = fixture{access: lecturers, call: classPath(strings.SplitN(p, " ", 2)[1]), reach: ownerOrAdmin, denied: 404}
	}
	f["POST /api/classes/{id}/certificates"] = fixture{access: lecturers, call: classPath("/api/classes/{id}/certificates"),
		reach: ownerOrAdmin, denied: 404}
	f["POST /api/classes/{id}/roster"] = fixture{access: lecturers, call: classPath("/api/classes/{id}/roster"),
		reach: ownerOrAdmin, denied: 404, contentType: "text/csv"}
	f["GET /api/sessions/{id}/nodes/{node}/terminal"] = fixture{access: Ticketed, call: sessionPath("/api/sessions/{id}/nodes/{node}/terminal")}

	// Certificates: anyone verifies one; only an admin revokes or renews;
	// "mine" is the caller's own list.
	f["GET /api/certificates/{code}"] = fixture{access: Public, call: certificatePath("/api/certificates/{code}", "")}
	f["GET /v/{code}"] = fixture{access: Public, call: certificatePath("/v/{code}", "")}
	f["GET /v/{$}"] = fixture{access: Public, call: certificatePath("/v/?code={code}", "")}
	f["POST /api/certificates/{code}/revoke"] = fixture{access: Roles(auth.Admin), call: certificatePath("/api/certificates/{code}/revoke", `{"reason":"matrix"}`)}
	f["POST /api/certificates/{code}/renew"] = fixture{access: Roles(auth.Admin), call: certificatePath("/api/certificates/{code}/renew", "")}
	f["POST /api/certificates/{code}/reissue"] = fixture{access: Roles(auth.Admin),
		call: func(t *testing.T, ts *testServer, owner *auth.Account) (string, []byte) {
			path, _ := certificatePath("/api/certificates/{code}", "")(t, ts, owner)
			code := strings.TrimPrefix(path, "/api/certificates/")
			if _, err := ts.api.Certificates.Revoke(context.Background(), code, "matrix"); err != nil {
				t.Fatal(err)
			}
			return path + "/reissue", []byte(`{"reason":"matrix"}`)
		}}
	f["GET /v/favicon.svg"] = fixture{access: Public, call: fixed("/v/favicon.svg", "")}
	f["GET /api/me/certificates"] = fixture{access: Authenticated, call: fixed("/api/me/certificates", "")}
	f["GET /.well-known/jwks.json"] = fixture{access: Public, call: fixed("/.well-known/jwks.json", "")}
	f["GET /.well-known/jwt-vc-issuer"] = fixture{access: Public, call: fixed("/.well-known/jwt-vc-issuer", "")}
	f["GET /status/revocation/{n}"] = fixture{access: Public, call: fixed("/status/revocation/1", "")}

	// Exams and programs: an attempt is its user's alone (not even an admin
	// submits it: 404). A claim is always the caller's own: each account
	// claims in its "own" cell and holds the certificate after (that
	// someone else's work does not count is TestProgramsAndClaim's).
	own := func(_ auth.Role, own bool) bool { return own }
	f["GET /api/exams/{exam}/attempt"] = fixture{access: Authenticated, call: fixed("/api/exams/demo/attempt", "")}
	f["POST /api/exams/{exam}/attempt/{attempt}"] = fixture{access: Authenticated, reach: own, denied: 404,
		call: func(t *testing.T, ts *testServer, owner *auth.Account) (string, []byte) {
			p, err := ts.api.Exams.Start(context.Background(), owner.ID, "demo")
			if err != nil {
				t.Fatal(err)
			}
			return "/api/exams/demo/attempt/" + p.ID, []byte(`{"answers":{}}`)
		}}
	f["GET /api/programs"] = fixture{access: Authenticated, call: fixed("/api/programs", "")}
	f["GET /api/programs/{program}"] = fixture{access: Authenticated, call: fixed("/api/programs/demo", "")}
	f["POST /api/programs/{program}/claim"] = fixture{access: Authenticated,
		call: func(t *testing.T, ts *testServer, owner *auth.Account) (string, []byte) {
			completeProgram(t, ts, owner.ID)
			return "/api/programs/demo/claim", nil
		}}
	return f
}

// freshUser makes a new trainee account (deactivated if asked) and fills
// pattern's {id} with it.
func freshUser(pattern string, deactivated bool) func(t *testing.T, ts *testServer, _ *auth.Account) (string, []byte) {
	return func(t *testing.T, ts *testServer, _ *auth.Account) (string, []byte) {
		ctx := context.Background()
		a, err := ts.api.Accounts.Add(ctx, fmt.Sprintf("fresh%d@example.com", matrixSeq.Add(1)), "Fresh", auth.Trainee, matrixPassword)
		if err != nil {
			t.Fatal(err)
		}
		if deactivated {
			if _, err := ts.api.Accounts.Deactivate(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
		}
		return strings.Replace(pattern, "{id}", a.ID, 1), nil
	}
}

// certificatePath issues owner a live certificate (a new one after the
// matrix renewed the last, a reissue after it revoked it) and fills
// pattern's {code} with it.
func certificatePath(pattern, body string) func(t *testing.T, ts *testServer, owner *auth.Account) (string, []byte) {
	return func(t *testing.T, ts *testServer, owner *auth.Account) (string, []byte) {
		ctx := context.Background()
		req := testCertRequest(owner.ID, owner.Name)
		c, err := ts.api.Certificates.Issue(ctx, req)
		if certificate.ErrorCodeOf(err) == certificate.ERevoked {
			var last *certificate.Certificate
			if last, err = ts.api.Certificates.Latest(ctx, req.Program.ID, owner.ID); err == nil {
				c, err = ts.api.Certificates.Reissue(ctx, last.Code, "matrix")
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		var b []byte
		if body != "" {
			b = []byte(body)
		}
		return strings.ReplaceAll(pattern, "{code}", certificate.Group(c.Code)), b
	}
}

// completeProgram passes the lab and the exam of program demo for user.
func completeProgram(t *testing.T, ts *testServer, user string) {
	t.Helper()
	ctx := context.Background()
	if err := ts.db.SaveSession(ctx, &lab.Session{ID: "passed-" + user, Lab: "demo", Owner: user, State: lab.Ended, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{"one", "two"} {
		ts.db.SaveStepResult(ctx, "passed-"+user, lab.StepResult{Step: st, Passed: true, Checked: time.Now()})
	}
	if pr, err := ts.api.Exams.Progress(ctx, user, "demo"); err != nil || pr.Exam.Passed {
		return
	}
	p, err := ts.api.Exams.Start(ctx, user, "demo")
	if err != nil {
		t.Fatal(err)
	}
	prog, _ := ts.api.Exams.Programs.Program("demo")
	if _, err := ts.api.Exams.Submit(ctx, user, "demo", p.ID, examtest.Key(p, prog.Bank, true)); err != nil {
		t.Fatal(err)
	}
}

// TestAuthorizationMatrix calls every route of the route table as nobody
// and as a trainee, a lecturer and an admin (each by bearer token and by
// cookie), on a resource of their own and on someone else's.
func TestAuthorizationMatrix(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	account := func(name string, role auth.Role) *auth.Account {
		a, err := ts.api.Accounts.Add(ctx, name+"@example.com", name, role, matrixPassword)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	stranger := account("zoe", auth.Trainee) // owns the "someone else's" resources
	callers := []caller{{name: "nobody"}}
	for _, role := range []auth.Role{auth.Trainee, auth.Lecturer, auth.Admin} {
		a := account(string(role), role)
		callers = append(callers, caller{name: string(role) + " (token)", acc: a}, caller{name: string(role) + " (cookie)", acc: a, cookie: true})
	}
	fixtures := matrixFixtures()
	for _, rt := range ts.api.routes() {
		key := rt.Method + " " + rt.Pattern
		fx, ok := fixtures[key]
		if !ok {
			t.Errorf("%s has no fixture in matrixFixtures: say how to call it on an owned and a foreign resource", key)
			continue
		}
		delete(fixtures, key)
		if !reflect.DeepEqual(fx.access, rt.Access) {
			t.Errorf("%s: routes.go gives access %+v, the matrix %+v: change both, deliberately", key, rt.Access, fx.access)
			continue
		}
		for _, c := range callers {
			for _, own := range []bool{true, false} {
				if own && c.acc == nil {
					continue // nobody owns nothing
				}
				owner := stranger
				if own {
					owner = c.acc
				}
				whose := "someone else's"
				if own {
					whose = "own"
				}
				t.Run(fmt.Sprintf("%s as %s on %s", key, c.name, whose), func(t *testing.T) {
					t.Cleanup(func() { endAllSessions(ts) })
					path, body := fx.call(t, ts, owner)
					token, hdr := c.credentials(t, ts)
					if fx.contentType != "" {
						hdr = append(hdr, "Content-Type", fx.contentType)
					}
					r := ts.do(t, rt.Method, path, token, body, hdr...)
					want := "success"
					switch {
					case fx.access.kind == ticketed:
						want = "401" // a websocket needs its ticket, whoever calls
					case fx.access.kind == public:
					case c.acc == nil:
						want = "401"
					case !fx.access.allows(c.role()):
						want = "403"
					case fx.reach != nil && !fx.reach(c.role(), own):
						want = fmt.Sprint(fx.denied)
					}
					if got := fmt.Sprint(r.status); want == "success" && r.status >= 400 || want != "success" && got != want {
						t.Errorf("%s: %d, want %s (%s)", path, r.status, want, r.body)
					}
				})
			}
		}
	}
	for key := range fixtures {
		t.Errorf("fixture %q matches no route", key)
	}
}

// endAllSessions ends every live session, so the per-user limit never
// interferes between matrix cells.
func endAllSessions(ts *testServer) {
	ctx := context.Background()
	all, _ := ts.api.Labs.Sessions(ctx, lab.Actor{SeeAll: true}, true)
	for _, s := range all {
		ts.api.Labs.Destroy(ctx, lab.Actor{SeeAll: true}, s.ID)
	}
}

// TestCSRFOnEveryUnsafeRoute: with the cookie and no X-CSRF-Token, every
// signed-in route that changes something answers 403 csrf, even for an
// admin on their own resource; the same call with the header passes.
func TestCSRFOnEveryUnsafeRoute(t *testing.T) {
	ts := newTestServer(t)
	admin, err := ts.api.Accounts.Add(context.Background(), "root@example.com", "Root", auth.Admin, matrixPassword)
	if err != nil {
		t.Fatal(err)
	}
	c := caller{name: "admin (cookie)", acc: admin, cookie: true}
	fixtures := matrixFixtures()
	checked := 0
	for _, rt := range ts.api.routes() {
		if rt.Method == "GET" || rt.Access.kind == public || rt.Access.kind == ticketed {
			continue
		}
		key := rt.Method + " " + rt.Pattern
		fx, ok := fixtures[key]
		if !ok {
			continue // TestAuthorizationMatrix reports it
		}
		t.Run(key, func(t *testing.T) {
			t.Cleanup(func() { endAllSessions(ts) })
			path, body := fx.call(t, ts, admin)
			_, hdr := c.credentials(t, ts)
			withoutHeader := hdr[:2] // the Cookie only
			if fx.contentType != "" {
				hdr = append(hdr, "Content-Type", fx.contentType)
				withoutHeader = append(withoutHeader[:2:2], "Content-Type", fx.contentType)
			}
			r := ts.do(t, rt.Method, path, "", body, withoutHeader...)
			if r.status != 403 || r.errorCode(t) != "csrf" {
				t.Errorf("without X-CSRF-Token: %d %s", r.status, r.body)
			}
			wrong := append(append([]string{}, withoutHeader...), csrfHeader, "forged")
			if r := ts.do(t, rt.Method, path, "", body, wrong...); r.status != 403 {
				t.Errorf("with a wrong X-CSRF-Token: %d %s", r.status, r.body)
			}
			if r := ts.do(t, rt.Method, path, "", body, hdr...); r.status >= 400 {
				t.Errorf("with the header: %d %s", r.status, r.body)
			}
		})
		checked++
	}
	if checked < 10 {
		t.Errorf("only %d unsafe routes checked", checked)
	}
}

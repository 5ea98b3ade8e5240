package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

func cookieNamed(h http.Header, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// browser holds what a browser keeps after signing in.
type browser struct{ session, csrf string }

func (b browser) headers(withCSRF bool) []string {
	h := []string{"Cookie", sessionCookie + "=" + b.session + "; " + csrfCookie + "=" + b.csrf}
	if withCSRF {
		h = append(h, csrfHeader, b.csrf)
	}
	return h
}

func (ts *testServer) signIn(t *testing.T, email, password string) (browser, response) {
	t.Helper()
	r := ts.do(t, "POST", "/api/login", "", []byte(`{"email":"`+email+`","password":"`+password+`"}`))
	var b browser
	if c := cookieNamed(r.header, sessionCookie); c != nil {
		b.session = c.Value
	}
	if c := cookieNamed(r.header, csrfCookie); c != nil {
		b.csrf = c.Value
	}
	return b, r
}

func TestLoginCookies(t *testing.T) {
	ts := newTestServer(t)
	acc, err := ts.api.Accounts.Add(context.Background(), "alice@example.com", "Alice", auth.Trainee, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	b, r := ts.signIn(t, "Alice@Example.com", "correct horse")
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	sc, cc := cookieNamed(r.header, sessionCookie), cookieNamed(r.header, csrfCookie)
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Secure || sc.MaxAge <= 0 {
		t.Errorf("session cookie: %+v", sc)
	}
	if cc == nil || cc.HttpOnly || cc.SameSite != http.SameSiteLaxMode || cc.Path != "/" || cc.Value == sc.Value {
		t.Errorf("csrf cookie: %+v", cc)
	}
	var in signedInView
	r.json(t, &in)
	if in.User.ID != acc.ID || in.User.Email != "alice@example.com" || in.User.Name != "Alice" || in.User.Role != auth.Trainee || in.CSRF != b.csrf {
		t.Errorf("login body: %s", r.body)
	}
	if strings.Contains(string(r.body), b.session) || strings.Contains(string(r.body), "argon2") {
		t.Error("the body holds the session id or the hash")
	}

	// GET needs only the cookie.
	var me struct{ User userView }
	r = ts.do(t, "GET", "/api/me", "", nil, b.headers(false)...)
	r.json(t, &me)
	if r.status != 200 || me.User.ID != acc.ID || me.User.Email != "alice@example.com" {
		t.Fatalf("me: %d %s", r.status, r.body)
	}
	// Unsafe methods need the CSRF header, right.
	body := []byte(`{"lab":"demo"}`)
	for name, h := range map[string][]string{
		"no header":    b.headers(false),
		"wrong header": append(b.headers(false), csrfHeader, strings.Repeat("x", len(b.csrf))),
		"empty header": append(b.headers(false), csrfHeader, ""),
	} {
		r = ts.do(t, "POST", "/api/sessions", "", body, h...)
		if r.status != 403 || r.errorCode(t) != "csrf" {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	if list, _ := ts.api.Labs.Sessions(context.Background(), actorOf(acc), false); len(list) != 0 {
		t.Fatalf("a refused request made %d sessions", len(list))
	}
	r = ts.do(t, "POST", "/api/sessions", "", body, b.headers(true)...)
	if r.status != 201 {
		t.Fatalf("with the header: %d %s", r.status, r.body)
	}
	// The ticket for a terminal, too, works by cookie.
	var s sessionView
	r.json(t, &s)
	ts.do(t, "GET", "/api/sessions/"+s.ID+"?wait=10s", "", nil, b.headers(false)...)
	if r := ts.do(t, "POST", "/api/sessions/"+s.ID+"/nodes/node1/ticket", "", nil, b.headers(true)...); r.status != 201 {
		t.Errorf("ticket by cookie: %d %s", r.status, r.body)
	}
	// Signing in again from this browser ends its previous sign-in.
	r = ts.do(t, "POST", "/api/login", "", []byte(`{"email":"alice@example.com","password":"correct horse"}`), b.headers(false)...)
	if r.status != 200 {
		t.Fatalf("second login: %d %s", r.status, r.body)
	}
	if r := ts.do(t, "GET", "/api/me", "", nil, b.headers(false)...); r.status != 401 {
		t.Errorf("the replaced sign-in: %d", r.status)
	}
	b = browser{session: cookieNamed(r.header, sessionCookie).Value, csrf: cookieNamed(r.header, csrfCookie).Value}
	// The bearer token still works, beside cookies.
	if r := ts.do(t, "GET", "/api/sessions/"+s.ID, ts.token(t, acc.ID, auth.Trainee), nil); r.status != 200 {
		t.Errorf("bearer: %d %s", r.status, r.body)
	}

	// Logout: needs the CSRF header too, kills the session server-side and clears both cookies.
	if r := ts.do(t, "POST", "/api/logout", "", nil, b.headers(false)...); r.status != 403 {
		t.Errorf("logout without CSRF: %d", r.status)
	}
	r = ts.do(t, "POST", "/api/logout", "", nil, b.headers(true)...)
	if r.status != 204 {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	for _, name := range []string{sessionCookie, csrfCookie} {
		if c := cookieNamed(r.header, name); c == nil || c.MaxAge >= 0 || c.Value != "" {
			t.Errorf("logout left cookie %s: %+v", name, c)
		}
	}
	r = ts.do(t, "GET", "/api/me", "", nil, b.headers(false)...)
	if r.status != 401 || r.errorCode(t) != "unauthorized" {
		t.Errorf("the old cookie after logout: %d %s", r.status, r.body)
	}
}

func TestLoginSecureOverTLS(t *testing.T) {
	ts := newTestServer(t)
	ts.api.Accounts.Add(context.Background(), "alice@example.com", "Alice", auth.Trainee, "correct horse")
	req := httptest.NewRequest("POST", "https://academy.example/api/login", strings.NewReader(`{"email":"alice@example.com","password":"correct horse"}`))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	ts.api.Handler().ServeHTTP(w, req)
	if w.Code != 200 {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	for _, name := range []string{sessionCookie, csrfCookie} {
		if c := cookieNamed(w.Header(), name); c == nil || !c.Secure {
			t.Errorf("cookie %s over TLS: %+v", name, c)
		}
	}
}

func TestLoginFailures(t *testing.T) {
	ts := newTestServer(t)
	ts.api.Accounts.Add(context.Background(), "alice@example.com", "Alice", auth.Trainee, "correct horse")
	_, wrong := ts.signIn(t, "alice@example.com", "wrong horse")
	_, unknown := ts.signIn(t, "bob@example.com", "correct horse")
	if wrong.status != 401 || unknown.status != 401 || string(wrong.body) != string(unknown.body) {
		t.Errorf("wrong password %d %s; unknown e-mail %d %s", wrong.status, wrong.body, unknown.status, unknown.body)
	}
	if cookieNamed(wrong.header, sessionCookie) != nil {
		t.Error("a failed login set a cookie")
	}
	for name, tc := range map[string]struct {
		body, ct string
		status   int
	}{
		"form body":     {"email=a&password=b", "application/x-www-form-urlencoded", 415},
		"text body":     {`{"email":"alice@example.com","password":"correct horse"}`, "text/plain", 415},
		"unknown field": {`{"email":"alice@example.com","password":"x","remember":true}`, "application/json", 400},
	} {
		if r := ts.do(t, "POST", "/api/login", "", []byte(tc.body), "Content-Type", tc.ct); r.status != tc.status {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	// The wrong password three more times (five in all with the first, the
	// unknown e-mail counting for bob): the next try is 429 with Retry-After.
	for range 4 {
		ts.signIn(t, "alice@example.com", "wrong horse")
	}
	_, r := ts.signIn(t, "alice@example.com", "correct horse")
	if r.status != 429 || r.errorCode(t) != "limit_reached" || r.header.Get("Retry-After") == "" {
		t.Errorf("after 5 failures: %d %s %q", r.status, r.body, r.header.Get("Retry-After"))
	}
	m := ts.do(t, "GET", "/metrics", ts.token(t, "root", auth.Admin), nil)
	for _, want := range []string{`labd_logins_total{result="wrong"} 6`, `labd_logins_total{result="limited"} 1`} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestInvitationFlow(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.api.Accounts.Add(ctx, "lena@example.com", "Lena", auth.Lecturer, "lena's password")
	lena, _ := ts.signIn(t, "lena@example.com", "lena's password")

	r := ts.do(t, "POST", "/api/invitations", "", []byte(`{"email":"tom@example.com","name":"Tom","role":"lecturer"}`), lena.headers(true)...)
	if r.status != 403 {
		t.Errorf("a lecturer invites a lecturer: %d %s", r.status, r.body)
	}
	r = ts.do(t, "POST", "/api/invitations", "", []byte(`{"email":"tom@example.com","name":"Tom","role":"trainee","lang":"en"}`), lena.headers(true)...)
	var inv struct{ URL, User string }
	r.json(t, &inv)
	prefix := ts.URL + "/en/invite/#"
	if r.status != 201 || !strings.HasPrefix(inv.URL, prefix) || len(inv.URL) < len(prefix)+43 {
		t.Fatalf("invite: %d %s", r.status, r.body)
	}
	token := strings.TrimPrefix(inv.URL, prefix)
	accept := func(token, password string) response {
		return ts.do(t, "POST", "/api/invitations/accept", "", []byte(`{"token":"`+token+`","password":"`+password+`"}`))
	}
	if r := accept(token, "short"); r.status != 400 {
		t.Errorf("weak password: %d %s", r.status, r.body)
	}
	r = accept(token, "tom's long password")
	if r.status != 200 || cookieNamed(r.header, sessionCookie) == nil {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	var in signedInView
	r.json(t, &in)
	if in.User.ID != inv.User || in.User.Name != "Tom" || in.User.Role != auth.Trainee {
		t.Errorf("accepted: %s", r.body)
	}
	if r := accept(token, "tom's long password"); r.status != 409 || r.errorCode(t) != "conflict" {
		t.Errorf("reused: %d %s", r.status, r.body)
	}
	if r := accept("made-up", "tom's long password"); r.status != 404 {
		t.Errorf("unknown: %d %s", r.status, r.body)
	}
	r = ts.do(t, "POST", "/api/invitations", "", []byte(`{"email":"tom@example.com","role":"trainee"}`), lena.headers(true)...)
	if r.status != 409 {
		t.Errorf("invite an account holder: %d %s", r.status, r.body)
	}
	// Expired (a link valid for a nanosecond): 410, and the account stays inactive.
	expired, err := ts.api.Accounts.Invite(ctx, auth.User{ID: "root", Role: auth.Admin},
		auth.InviteRequest{Email: "ann@example.com", Role: auth.Trainee, TTL: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r := accept(expired.Token, "ann's long password"); r.status != 410 || r.errorCode(t) != "expired" {
		t.Errorf("expired: %d %s", r.status, r.body)
	}
	if ann, _ := ts.api.Accounts.ByEmail(ctx, "ann@example.com"); ann.Active() {
		t.Error("an expired invitation activated the account")
	}
}

func TestUsersAdmin(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.api.Accounts.Add(ctx, "root@example.com", "Root", auth.Admin, "root's password")
	alice, _ := ts.api.Accounts.Add(ctx, "alice@example.com", "Alice", auth.Trainee, "alice's password")
	root, _ := ts.signIn(t, "root@example.com", "root's password")
	ab, _ := ts.signIn(t, "alice@example.com", "alice's password")

	var list []userView
	r := ts.do(t, "GET", "/api/users", "", nil, root.headers(false)...)
	r.json(t, &list)
	i := slices.IndexFunc(list, func(u userView) bool { return u.ID == alice.ID })
	if r.status != 200 || len(list) != 2 || i < 0 || list[i].Email != "alice@example.com" || list[i].Active == nil || !*list[i].Active {
		t.Fatalf("users: %d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), "argon2") {
		t.Error("the list shows password hashes")
	}
	for body, status := range map[string]int{`{"role":"root"}`: 400, `{"role":""}`: 400, `{}`: 400} {
		if r := ts.do(t, "PATCH", "/api/users/"+alice.ID, "", []byte(body), root.headers(true)...); r.status != status {
			t.Errorf("PATCH %s: %d %s", body, r.status, r.body)
		}
	}
	if r := ts.do(t, "PATCH", "/api/users/u_nobody", "", []byte(`{"role":"lecturer"}`), root.headers(true)...); r.status != 404 {
		t.Errorf("unknown user: %d %s", r.status, r.body)
	}
	r = ts.do(t, "PATCH", "/api/users/"+alice.ID, "", []byte(`{"role":"lecturer"}`), root.headers(true)...)
	if r.status != 200 {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}
	// Alice's live cookie session has the new role at once.
	var me struct{ User userView }
	ts.do(t, "GET", "/api/me", "", nil, ab.headers(false)...).json(t, &me)
	if me.User.Role != auth.Lecturer {
		t.Errorf("alice's role after the change: %s", me.User.Role)
	}
}

func actorOf(a *auth.Account) lab.Actor { return lab.Actor{User: a.ID} }

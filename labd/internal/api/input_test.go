package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/terminal"
)

// Every JSON body: a name twice, or in another case, is refused whole.
func TestJSONBodiesAreStrict(t *testing.T) {
	ts := newTestServer(t)
	alice := ts.token(t, "alice", auth.Trainee)
	admin := ts.token(t, "root", auth.Admin)
	for _, tc := range []struct {
		name, method, path, token, body string
		status                          int
		mention                         string
	}{
		{"duplicate name", "POST", "/api/sessions", alice, `{"lab":"nope","lab":"demo"}`, 400, `"lab" appears twice`},
		{"duplicate, the other order", "POST", "/api/sessions", alice, `{"lab":"demo","lab":"nope"}`, 400, `"lab" appears twice`},
		{"upper case", "POST", "/api/sessions", alice, `{"LAB":"demo"}`, 400, `unknown name "LAB"`},
		{"mixed case", "POST", "/api/sessions", alice, `{"Lab":"demo"}`, 400, `unknown name "Lab"`},
		{"duplicate when signing in", "POST", "/api/login", "", `{"email":"a@example.com","email":"b@example.com","password":"x"}`, 400, "twice"},
		{"case when inviting", "POST", "/api/invitations", admin, `{"Email":"a@example.com"}`, 400, `"Email"`},
		{"nested duplicate", "POST", "/api/exams/demo/attempt/x", alice, `{"answers":{"q1":["a"],"q1":["b"]}}`, 400, `"q1" appears twice in /answers`},
		{"invalid UTF-8", "POST", "/api/sessions", alice, "{\"lab\":\"\xff\"}", 400, "invalid_json"},
		{"wrong type", "POST", "/api/sessions", alice, `{"lab":5}`, 400, "/lab: a JSON number does not belong here"},
		{"two values", "POST", "/api/sessions", alice, `{"lab":"demo"} {}`, 400, "after top-level value"},
		{"strict and exact", "POST", "/api/sessions", alice, `{"lab":"demo"}`, 201, `"lab":"demo"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do(t, tc.method, tc.path, tc.token, []byte(tc.body))
			var e struct{ Error struct{ Message string } }
			json.Unmarshal(r.body, &e)
			if r.status != tc.status || !strings.Contains(string(r.body)+e.Error.Message, tc.mention) {
				t.Fatalf("%d %s, want %d mentioning %s", r.status, r.body, tc.status, tc.mention)
			}
			if tc.status == 400 && r.errorCode(t) != "invalid_json" {
				t.Errorf("code %s, want invalid_json", r.errorCode(t))
			}
			if strings.Contains(string(r.body), "api.") || strings.Contains(string(r.body), "Go ") {
				t.Errorf("the message names Go types: %s", r.body)
			}
		})
	}
}

// FuzzDecodeJSON: whatever the decoder accepts is one valid JSON object
// with no name twice at any depth and only the exact names of the struct.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"lab":"demo"}`, `{"lab":"a","lab":"b"}`, `{"LAB":"a"}`, `{"tags":["x"],"inner":{"a":"1","a":"2"}}`,
		`{"n":1,"inner":{"a":"z"}}`, `{"lab":"\u00e9"}`, `{"lab":"a"}{}`, `{"extra":{"a":1,"a":1}}`, ``, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v struct {
			Lab   string   `json:"lab"`
			N     int      `json:"n"`
			Tags  []string `json:"tags"`
			Inner struct {
				A string `json:"a"`
			} `json:"inner"`
			Raw json.RawMessage `json:"raw"`
		}
		err := decodeJSON(body, &v)
		if err != nil {
			var he *httpError
			if !errAs(err, &he) || he.status != 400 || he.code != "invalid_json" {
				t.Fatalf("error %v is not a 400 invalid_json", err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if !utf8.Valid(body) {
			t.Fatalf("accepted invalid UTF-8 %q", body)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		known := map[string]bool{"lab": true, "n": true, "tags": true, "inner": true, "raw": true}
		if dup, unknown := scanNames(t, dec, 0, known); dup != "" || unknown != "" {
			t.Fatalf("accepted %q: duplicate %q, unknown %q", body, dup, unknown)
		}
	})
}

func errAs(err error, he **httpError) bool {
	e, ok := err.(*httpError)
	*he = e
	return ok
}

// scanNames walks one value with encoding/json's tokenizer, independently
// of the decoder under test: it reports a name seen twice in one object,
// and a top-level name not in known.
func scanNames(t *testing.T, dec *json.Decoder, depth int, known map[string]bool) (dup, unknown string) {
	tok, err := dec.Token()
	if err != nil {
		t.Fatal(err)
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, _ := dec.Token()
			name := k.(string)
			if seen[name] && dup == "" {
				dup = name
			}
			seen[name] = true
			if depth == 0 && name != "raw" && !known[name] && unknown == "" {
				unknown = name
			}
			d, u := scanNames(t, dec, depth+1, nil)
			if dup == "" {
				dup = d
			}
			if unknown == "" {
				unknown = u
			}
		}
		dec.Token()
	case json.Delim('['):
		for dec.More() {
			if d, _ := scanNames(t, dec, depth+1, nil); dup == "" {
				dup = d
			}
		}
		dec.Token()
	}
	return dup, unknown
}

// The Authorization scheme is case-insensitive (RFC 9110, RFC 6750).
func TestBearerScheme(t *testing.T) {
	ts := newTestServer(t)
	tok := ts.token(t, "alice", auth.Trainee)
	for _, tc := range []struct {
		header string
		status int
	}{
		{"Bearer " + tok, 200},
		{"bearer " + tok, 200},
		{"BEARER " + tok, 200},
		{"bEaReR " + tok, 200},
		{"Basic " + tok, 401},
		{"Bearer", 401},
		{"Bearer ", 401},
		{"Bearertoken " + tok, 401},
		{tok, 401},
	} {
		r := ts.do(t, "GET", "/api/me", "", nil, "Authorization", tc.header)
		if r.status != tc.status {
			t.Errorf("Authorization: %.20s…: %d %s, want %d", tc.header, r.status, r.body, tc.status)
		}
	}
}

// A terminal's Origin must be the configured site's or an allowed one:
// scheme, host and port, never the request's own Host. Real upgrades.
func TestTerminalOrigin(t *testing.T) {
	ts := newTestServer(t)
	ts.api.URL = "http://academy.example:18300/"
	ts.api.Origins = []string{"https://partner.example"}
	alice := ts.token(t, "alice", auth.Trainee)
	id := ts.readySession(t, alice)
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/sessions/" + id + "/nodes/node1/terminal"
	for _, tc := range []struct {
		name, origin, host string
		status             int
	}{
		{"the site", "http://academy.example:18300", "", 101},
		{"the site, upper case", "HTTP://ACADEMY.EXAMPLE:18300", "", 101},
		{"allowed, default port", "https://partner.example", "", 101},
		{"allowed, explicit port", "https://partner.example:443", "", 101},
		{"no Origin (a program)", "", "", 101},
		{"right host, https", "https://academy.example:18300", "", 403},
		{"right host, ftp", "ftp://academy.example:18300", "", 403},
		{"right host, other port", "http://academy.example:18301", "", 403},
		{"the site, its own Host", "http://academy.example:18300", "academy.example:18300", 101},
		{"https, the Host matching", "https://academy.example:18300", "academy.example:18300", 403},
		{"ftp, the Host matching", "ftp://academy.example:18300", "academy.example:18300", 403},
		{"allowed host, http", "http://partner.example", "", 403},
		{"Host header chosen by the caller", "http://evil.example:18300", "evil.example:18300", 403},
		{"the server's own address, not configured", ts.URL, "", 403},
		{"null", "null", "", 403},
		{"with a path", "http://academy.example:18300/x", "", 403},
		{"with a user", "http://u@academy.example:18300", "", 403},
		{"suffix", "http://academy.example:18300.evil.example", "", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tk struct{ Ticket string }
			ts.do(t, "POST", "/api/sessions/"+id+"/nodes/node1/ticket", alice, nil).json(t, &tk)
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			if tc.host != "" {
				h.Set("Host", tc.host)
			}
			c, resp, err := terminal.Dial(context.Background(), url, tk.Ticket, h)
			if c != nil {
				c.Close()
			}
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("%d (%v), want %d", resp.StatusCode, err, tc.status)
			}
		})
	}
}

// An error message echoes at most a short piece of what was sent.
func TestErrorsClipEchoedValues(t *testing.T) {
	ts := newTestServer(t)
	alice := ts.token(t, "alice", auth.Trainee)
	long := strings.Repeat("x", 60000)
	for _, path := range []string{"/api/labs/" + long, "/api/sessions/" + long, "/api/nope/" + long} {
		r := ts.do(t, "GET", path, alice, nil)
		var e struct {
			Error struct{ Code, Message string }
		}
		r.json(t, &e)
		if r.status != 404 || len(e.Error.Message) > 300 || !strings.Contains(e.Error.Message, "xxxxxxxx…") {
			t.Errorf("GET %.20s…: %d, a message of %d bytes: %.200s", path, r.status, len(e.Error.Message), e.Error.Message)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"short message", "short message"},
		{`no lab "` + strings.Repeat("é", 100) + `"`, `no lab "` + strings.Repeat("é", maxWord-3) + `…"`},
	} {
		if got := clip(tc.in); got != tc.want {
			t.Errorf("clip(%.30q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := clip(strings.Repeat("word ", 1000)); utf8.RuneCountInString(got) > maxMessage {
		t.Errorf("a long message stays %d runes long", utf8.RuneCountInString(got))
	}
}

// ?wait= takes a duration up to a minute, as the README says.
func TestWaitBound(t *testing.T) {
	ts := newTestServer(t)
	alice := ts.token(t, "alice", auth.Trainee)
	id := ts.readySession(t, alice)
	for wait, status := range map[string]int{"0s": 200, "1s": 200, "1m": 200, "61s": 400, "2m": 400, "-1s": 400, "forever": 400} {
		if r := ts.do(t, "GET", "/api/sessions/"+id+"?wait="+wait, alice, nil); r.status != status {
			t.Errorf("wait=%s: %d %s, want %d", wait, r.status, r.body, status)
		}
	}
}

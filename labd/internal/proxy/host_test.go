package proxy

import (
	"bytes"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestParseHost(t *testing.T) {
	p := New(Config{Domain: "Labs.Localhost.", Targets: &fakeTargets{}})
	tok := p.sessionToken("s1")
	for _, tc := range []struct {
		host string
		ok   bool
		node string
		port int
	}{
		{"p8080-node1-" + tok + ".labs.localhost", true, "node1", 8080},
		{"p7480-my-node-2-" + tok + ".labs.localhost", true, "my-node-2", 7480},
		{"p65535-n-" + tok + ".labs.localhost", true, "n", 65535},
		{"p65536-n-" + tok + ".labs.localhost", false, "", 0},
		{"p08080-node1-" + tok + ".labs.localhost", false, "", 0},
		{"p-8080-node1-" + tok + ".labs.localhost", false, "", 0},
		{"p8080a-node1-" + tok + ".labs.localhost", false, "", 0},
		{"p8080--" + tok + ".labs.localhost", false, "", 0},
		{"p8080-node1" + tok + ".labs.localhost", false, "", 0},
		{"x8080-node1-" + tok + ".labs.localhost", false, "", 0},
		{"p8080-node1-" + strings.ToUpper(tok) + ".labs.localhost", false, "", 0},
		{"p8080-node1-" + tok + ".labs.localhost.evil.test", false, "", 0},
		{"a.p8080-node1-" + tok + ".labs.localhost", false, "", 0},
		{"p8080-node1-aaaaaaaaaaaaaaaaaaaaaaaaaa.labs.localhost", false, "", 0},
		{"labs.localhost", false, "", 0},
	} {
		got, ok := p.parseHost(tc.host)
		if ok != tc.ok || (ok && (got.session != "s1" || got.node != tc.node || got.port != tc.port)) {
			t.Errorf("%s: %+v %v, want %v %s:%d", tc.host, got, ok, tc.ok, tc.node, tc.port)
		}
	}
}

// FuzzParseHost: whatever the host name, a target is only ever a known
// session with a port in range and a node name of the host's own letters.
func FuzzParseHost(f *testing.F) {
	p := New(Config{Domain: "labs.localhost", Targets: &fakeTargets{}})
	tok := p.sessionToken("s1")
	f.Add("p8080-node1-" + tok + ".labs.localhost")
	f.Add("p1-a-" + tok + ".labs.localhost")
	f.Add("p8080-" + tok + ".labs.localhost")
	f.Fuzz(func(t *testing.T, h string) {
		got, ok := p.parseHost(h)
		if !ok {
			return
		}
		if got.session != "s1" || got.port < 1 || got.port > 65535 || got.node == "" ||
			strings.ContainsAny(got.node, ".:@/") || h != "p"+strconv.Itoa(got.port)+"-"+got.node+"-"+tok+".labs.localhost" {
			t.Fatalf("%q parsed as %+v", h, got)
		}
	})
}

// The access log names the session and never a link or a grant.
func TestAccessLogHasNoSecrets(t *testing.T) {
	r := newRig(t, nil)
	var buf bytes.Buffer
	r.p.cfg.Log = slog.New(slog.NewTextHandler(&buf, nil))
	c := r.browser(t)
	link := r.p.Link("s1", "node1", 8080, "/start", "alice", r.port)
	res, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	u, _ := url.Parse(link)
	grant := ""
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "labd-port" {
			grant = ck.Value
		}
	}
	log := buf.String()
	if !strings.Contains(log, "session=s1") || !strings.Contains(log, "path=/.labd/open") || !strings.Contains(log, "path=/start") {
		t.Fatalf("access log: %s", log)
	}
	for _, secret := range []string{u.Query().Get("t"), grant} {
		if secret == "" || strings.Contains(log, secret) {
			t.Fatalf("the access log holds a secret (%q): %s", secret, log)
		}
	}
}

package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
)

// webLab writes a lab whose node serves HTTP with busybox httpd on 8080
// (declared) and 9090 (not declared), with CGI scripts that echo what the
// node received and stream slowly.
func webLab(t *testing.T, id string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"web/lab.yaml": `id: ` + id + `
title: {zh: 网页, en: Web}
duration: 5m
nodes:
  - name: node1
    image: academy/tiny
    memory: 32Mi
    terminal: true
    ports: [{port: 8080, name: site, title: {zh: 网站, en: Site}, path: /index.html}]
setup: [{node: node1, script: setup.sh}]
steps: [{id: s, title: {zh: 步, en: Step}, text: s, check: {node: node1, run: "true"}, solution: setup.sh}]
`,
		"web/setup.sh": `set -e
mkdir -p /www/cgi-bin /secret
echo "hello from node1" > /www/index.html
echo "undeclared" > /secret/index.html
printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "host=$HTTP_HOST"\necho "cookie=$HTTP_COOKIE"\necho "xfh=$HTTP_X_FORWARDED_HOST"\n' > /www/cgi-bin/env
printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho first\nsleep 120\necho second\n' > /www/cgi-bin/stream
chmod +x /www/cgi-bin/*
httpd -p 8080 -h /www
httpd -p 9090 -h /secret
`,
		"web/s.zh.md": "步",
		"web/s.en.md": "Step",
	}
	for name, body := range files {
		name = id + strings.TrimPrefix(name, "web")
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type portsView struct {
	ID    string
	State string
	Ports []struct {
		Node, Name, URL string
		Port            int
	}
}

// labBrowser is a client whose every host leads to labd (browsers resolve
// *.localhost to loopback themselves), with a cookie jar of its own.
func labBrowser(t *testing.T, l *labd) *http.Client {
	t.Helper()
	addr := strings.TrimPrefix(l.url, "http://")
	return &http.Client{Jar: &hostJar{m: map[string]map[string]*http.Cookie{}}, Timeout: 3 * time.Minute, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		}}}
}

func fetch(t *testing.T, c *http.Client, u string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestLabPortsThroughLabd opens a Docker node's declared web port through
// labd's proxy: only for the session's owner, only declared ports, never
// with the portal's credentials, streaming, and not a moment after the
// session ends.
func TestLabPortsThroughLabd(t *testing.T) {
	needDocker(t)
	l := startLabd(t, t.TempDir(), instanceName(t), webLab(t, "web"))
	alice, bob := l.token(t, "alice", auth.Trainee), l.token(t, "bob", auth.Trainee)
	s := l.readySession(t, alice, "web")
	var v portsView
	if code := l.call(t, "GET", "/api/sessions/"+s.ID, alice, nil, &v); code != 200 || len(v.Ports) != 1 {
		t.Fatalf("session: %d %+v", code, v)
	}
	p := v.Ports[0]
	u, _ := url.Parse(p.URL)
	if p.Node != "node1" || p.Port != 8080 || !strings.HasPrefix(u.Host, "p8080-node1-") || !strings.Contains(u.Host, ".labs.localhost:") {
		t.Fatalf("port: %+v", p)
	}
	origin := "http://" + u.Host
	var other portsView
	if code := l.call(t, "GET", "/api/sessions/"+s.ID, bob, nil, &other); code != 404 || len(other.Ports) != 0 {
		t.Fatalf("bob asked for alice's session: %d %+v", code, other)
	}

	browser := labBrowser(t, l)
	if code, body := fetch(t, browser, p.URL); code != 200 || body != "hello from node1\n" {
		t.Fatalf("open the port: %d %q", code, body)
	}
	code, body := fetch(t, browser, origin+"/cgi-bin/env", "Cookie", "labd_session=SECRET; app=1", "Authorization", "Bearer "+alice)
	if code != 200 || !strings.Contains(body, "host="+u.Host+"\n") || !strings.Contains(body, "xfh="+u.Host+"\n") ||
		!strings.Contains(body, "cookie=app=1\n") || strings.Contains(body, "SECRET") || strings.Contains(body, "labd-port") {
		t.Fatalf("what the node received: %d %q", code, body)
	}
	undeclared := strings.Replace(origin, "//p8080-", "//p9090-", 1)
	if code, body := fetch(t, browser, undeclared+"/"); code != 404 || strings.Contains(body, "undeclared") {
		t.Fatalf("undeclared port: %d %q", code, body)
	}
	// Bob's browser: the used link is refused, the origin without a grant is 404.
	bobs := labBrowser(t, l)
	if code, _ := fetch(t, bobs, p.URL); code != 403 {
		t.Fatalf("bob reused alice's link: %d", code)
	}
	if code, body := fetch(t, bobs, origin+"/index.html"); code != 404 || strings.Contains(body, "hello") {
		t.Fatalf("bob opened alice's port: %d %q", code, body)
	}

	// A streamed response arrives as the node writes it; ending the session cuts it.
	res, err := browser.Get(origin + "/cgi-bin/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	if line, err := br.ReadString('\n'); err != nil || line != "first\n" {
		t.Fatalf("stream: %q %v", line, err)
	}
	if code := l.call(t, "DELETE", "/api/sessions/"+s.ID, alice, nil, nil); code != 204 {
		t.Fatalf("end: %d", code)
	}
	rest, err := io.ReadAll(br)
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) || strings.Contains(string(rest), "second") {
		t.Fatalf("the stream outlived its session: %q %v", rest, err)
	}
	if code, _ := fetch(t, browser, origin+"/index.html"); code != 404 {
		t.Fatalf("a port of an ended session: %d", code)
	}
}

// hostJar keeps cookies per host name, as browsers keep host-only cookies;
// like browsers it sends Secure cookies to http://*.localhost.
type hostJar struct {
	mu sync.Mutex
	m  map[string]map[string]*http.Cookie
}

func (j *hostJar) SetCookies(u *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.m[u.Hostname()] == nil {
		j.m[u.Hostname()] = map[string]*http.Cookie{}
	}
	for _, c := range cs {
		j.m[u.Hostname()][c.Name] = c
	}
}

func (j *hostJar) Cookies(u *url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []*http.Cookie
	for _, c := range j.m[u.Hostname()] {
		out = append(out, c)
	}
	return out
}

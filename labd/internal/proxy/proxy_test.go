package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeTargets is the lab service's part: declared ports of live sessions.
type fakeTargets struct {
	mu    sync.Mutex
	ports map[string]string // session/node/port -> addr
}

func (f *fakeTargets) Target(session, node string, port int) (string, bool, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.ports[fmt.Sprintf("%s/%s/%d", session, node, port)]
	return a, false, ok
}

func (f *fakeTargets) end(session string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.ports {
		if strings.HasPrefix(k, session+"/") {
			delete(f.ports, k)
		}
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type rig struct {
	p        *Proxy
	targets  *fakeTargets
	clock    *clock
	srv      *httptest.Server // labd: Route(api)
	apiHits  atomic.Int32
	backend  *httptest.Server // the node's port 8080
	other    *httptest.Server // an address nobody declared
	otherHit atomic.Int32
	seen     chan *http.Request // requests as the node saw them
	port     string             // labd's port
}

func newRig(t *testing.T, backend http.Handler) *rig {
	t.Helper()
	r := &rig{clock: &clock{t: time.Unix(1_800_000_000, 0)}, seen: make(chan *http.Request, 16)}
	if backend == nil {
		backend = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			select {
			case r.seen <- req.Clone(context.Background()):
			default:
			}
			http.SetCookie(w, &http.Cookie{Name: "app", Value: "1", Domain: "labs.localhost"})
			w.Header().Add("Set-Cookie", "labd-port=forged; Path=/")
			w.Header().Set("X-Frame-Options", "DENY")
			fmt.Fprintf(w, "hello from the node: %s", req.URL.Path)
		})
	}
	r.backend = httptest.NewServer(backend)
	r.other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { r.otherHit.Add(1) }))
	r.targets = &fakeTargets{ports: map[string]string{
		"s1/node1/8080": r.backend.Listener.Addr().String(),
		"s2/node1/8080": r.backend.Listener.Addr().String(),
	}}
	r.p = New(Config{Domain: "labs.localhost", Targets: r.targets, FrameAncestors: []string{"http://portal.test"},
		CookieNames: []string{"labd_session", "labd_csrf"}, Now: r.clock.now, MaxConns: 4})
	r.srv = httptest.NewServer(r.p.Route(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		r.apiHits.Add(1)
		http.NotFound(w, nil)
	})))
	_, r.port, _ = net.SplitHostPort(r.srv.Listener.Addr().String())
	t.Cleanup(func() {
		r.srv.CloseClientConnections()
		r.srv.Close()
		r.backend.CloseClientConnections()
		r.backend.Close()
		r.other.Close()
		r.p.Close()
	})
	return r
}

// browser is a client whose every host name leads to labd, as *.localhost
// does in browsers; it keeps cookies per host.
func (r *rig) browser(t *testing.T) *http.Client {
	t.Helper()
	jar := newJar()
	addr := r.srv.Listener.Addr().String()
	return &http.Client{
		Jar: jar,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return nil },
		Timeout:       time.Minute,
	}
}

// open redeems a fresh link for session's node1:8080 and returns the origin.
func (r *rig) open(t *testing.T, c *http.Client, session string) string {
	t.Helper()
	link := r.p.Link(session, "node1", 8080, "/start", "alice", r.port)
	res, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "hello from the node: /start" {
		t.Fatalf("open %s: %d %q", link, res.StatusCode, body)
	}
	u, _ := url.Parse(link)
	return "http://" + u.Host
}

func get(t *testing.T, c *http.Client, u string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestProxyOpensDeclaredPortOnly(t *testing.T) {
	r := newRig(t, nil)
	c := r.browser(t)
	origin := r.open(t, c, "s1")
	if code, body := get(t, c, origin+"/x"); code != 200 || body != "hello from the node: /x" {
		t.Fatalf("granted GET: %d %q", code, body)
	}
	host := strings.TrimPrefix(origin, "http://")
	undeclared := strings.Replace(origin, "http://p8080-", "http://p8081-", 1)
	zero := strings.Replace(origin, "http://p8080-", "http://p08080-", 1)
	othernode := strings.Replace(origin, "-node1-", "-node2-", 1)
	for _, u := range []string{undeclared, zero, othernode, "http://p8080-node1-aaaaaaaaaaaaaaaaaaaaaaaaaa.labs.localhost:" + r.port} {
		if code, _ := get(t, c, u+"/"); code != 404 {
			t.Errorf("%s: %d, want 404", u, code)
		}
	}
	// Another port of the same session is another origin: no grant there.
	r.targets.ports["s1/node1/9090"] = r.backend.Listener.Addr().String()
	if code, _ := get(t, c, strings.Replace(origin, "http://p8080-", "http://p9090-", 1)+"/"); code != 404 {
		t.Errorf("the grant of :8080 opened :9090: %d", code)
	}
	_ = host
	if r.apiHits.Load() != 0 {
		t.Errorf("lab hosts reached the API %d times", r.apiHits.Load())
	}
}

func TestProxyAnotherUsersSession(t *testing.T) {
	r := newRig(t, nil)
	alice, bob := r.browser(t), r.browser(t)
	aliceOrigin := r.open(t, alice, "s1")
	r.open(t, bob, "s2") // bob's own session works for bob
	if code, body := get(t, bob, aliceOrigin+"/"); code != 404 || strings.Contains(body, "hello") {
		t.Fatalf("bob opened alice's port: %d %q", code, body)
	}
	// Bob's grant cookie value replayed on alice's origin is not a grant there.
	u, _ := url.Parse(aliceOrigin)
	bobOrigin, _ := url.Parse(strings.Replace(aliceOrigin, r.p.sessionToken("s1"), r.p.sessionToken("s2"), 1))
	var grantValue string
	for _, ck := range bob.Jar.Cookies(bobOrigin) {
		if ck.Name == "labd-port" {
			grantValue = ck.Value
		}
	}
	if grantValue == "" {
		t.Fatal("bob has no grant cookie")
	}
	if code, _ := get(t, r.browser(t), "http://"+u.Host+"/", "Cookie", "labd-port="+grantValue); code != 404 {
		t.Fatalf("another session's grant opened alice's port: %d", code)
	}
}

func TestProxyLinkExpiresAndWorksOnce(t *testing.T) {
	r := newRig(t, nil)
	link := r.p.Link("s1", "node1", 8080, "/", "alice", r.port)
	r.clock.add(r.p.cfg.LinkTTL + time.Second)
	if code, body := get(t, r.browser(t), link); code != 403 || strings.Contains(body, "hello") {
		t.Fatalf("expired link: %d %q", code, body)
	}
	r.clock.add(-r.p.cfg.LinkTTL - time.Second)
	link = r.p.Link("s1", "node1", 8080, "/", "alice", r.port)
	if code, _ := get(t, r.browser(t), link); code != 200 {
		t.Fatalf("fresh link: %d", code)
	}
	if code, _ := get(t, r.browser(t), link); code != 403 {
		t.Fatalf("a used link reused in another browser: %d, want 403", code)
	}
	// A link signed for one origin does not open another.
	link = r.p.Link("s1", "node1", 8080, "/", "alice", r.port)
	forged := strings.Replace(link, "http://p8080-", "http://p9090-", 1)
	r.targets.ports["s1/node1/9090"] = r.backend.Listener.Addr().String()
	if code, _ := get(t, r.browser(t), forged); code != 403 {
		t.Fatalf("a link moved to another port: %d, want 403", code)
	}
}

func TestProxyNeverForwardsPortalCredentials(t *testing.T) {
	r := newRig(t, nil)
	c := r.browser(t)
	origin := r.open(t, c, "s1")
	<-r.seen
	code, _ := get(t, c, origin+"/h", "Cookie", "labd_session=SECRET1; mine=2; labd_csrf=SECRET2",
		"Authorization", "Bearer SECRET3")
	if code != 200 {
		t.Fatalf("GET: %d", code)
	}
	req := <-r.seen
	all := fmt.Sprint(req.Header)
	for _, s := range []string{"SECRET", "labd-port", "labd_session", "Authorization"} {
		if strings.Contains(all, s) {
			t.Errorf("the node got %q: %s", s, all)
		}
	}
	if got := req.Header.Get("Cookie"); got != "mine=2; app=1" && got != "app=1; mine=2" {
		t.Errorf("the lab's own cookies: %q, want app=1 and mine=2", got)
	}
	if want := strings.TrimPrefix(origin, "http://"); req.Host != want || req.Header.Get("X-Forwarded-Host") != want {
		t.Errorf("Host %q, X-Forwarded-Host %q, want %q", req.Host, req.Header.Get("X-Forwarded-Host"), want)
	}
	// The response: framable by the portal, its cookies kept on this origin.
	res, err := c.Get(origin + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("X-Frame-Options") != "" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'self' http://portal.test") {
		t.Errorf("framing headers: %v", res.Header)
	}
	sc := res.Header.Values("Set-Cookie")
	if len(sc) != 1 || strings.Contains(strings.ToLower(sc[0]), "domain") || !strings.HasPrefix(sc[0], "app=1") {
		t.Errorf("Set-Cookie: %q, want app=1 without Domain, and no labd-port", sc)
	}
}

func TestProxyCraftedHostsAndPaths(t *testing.T) {
	r := newRig(t, nil)
	c := r.browser(t)
	origin := r.open(t, c, "s1")
	<-r.seen
	host := strings.TrimPrefix(origin, "http://")
	hostOnly, _, _ := net.SplitHostPort(host)
	other := r.other.Listener.Addr().String()
	cookie := ""
	for _, ck := range c.Jar.Cookies(&url.URL{Scheme: "http", Host: host}) {
		if ck.Name == "labd-port" {
			cookie = ck.Name + "=" + ck.Value
		}
	}
	// A path that looks like an address is only a path on the node.
	if code, body := get(t, c, origin+"//"+other+"/"); code != 200 || body != "hello from the node: //"+other+"/" {
		t.Errorf("//%s/ on the port: %d %q", other, code, body)
	}
	<-r.seen
	raw := []string{
		// Absolute form names another address: it is the host, not a lab's.
		"GET http://" + other + "/ HTTP/1.1\r\nHost: " + host + "\r\nCookie: " + cookie + "\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: " + hostOnly + ".evil.test:" + r.port + "\r\nCookie: " + cookie + "\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: " + strings.Replace(host, "p8080-", "p"+strings.Split(other, ":")[1]+"-", 1) + "\r\nCookie: " + cookie + "\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: " + strings.Replace(host, "-node1-", "-"+other+"-", 1) + "\r\nCookie: " + cookie + "\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: " + strings.Replace(host, "p8080-", "p8080@"+other+"-", 1) + "\r\nCookie: " + cookie + "\r\n\r\n",
	}
	for _, req := range raw {
		nc, err := net.Dial("tcp", r.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(nc, req)
		res, err := http.ReadResponse(bufio.NewReader(nc), nil)
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode == 200 {
				t.Errorf("%q: 200 %q", req, b)
			}
		}
		nc.Close()
	}
	if n := r.otherHit.Load(); n != 0 {
		t.Fatalf("crafted requests reached another address %d times", n)
	}
	select {
	case req := <-r.seen:
		t.Fatalf("a crafted request reached the node: %s %s", req.Host, req.URL)
	default:
	}
}

func TestProxyWebsocket(t *testing.T) {
	up := websocket.Upgrader{}
	r := newRig(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/start" {
			io.WriteString(w, "hello from the node: /start")
			return
		}
		ws, err := up.Upgrade(w, req, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			mt, m, err := ws.ReadMessage()
			if err != nil {
				return
			}
			ws.WriteMessage(mt, m)
		}
	}))
	c := r.browser(t)
	origin := r.open(t, c, "s1")
	wsURL := strings.Replace(origin, "http://", "ws://", 1) + "/echo"
	d := websocket.Dialer{NetDialContext: c.Transport.(*http.Transport).DialContext, Jar: c.Jar, HandshakeTimeout: 10 * time.Second}
	ws, res, err := d.Dial(wsURL, http.Header{"Origin": {origin}})
	if err != nil {
		t.Fatalf("websocket through the proxy: %v (%v)", err, res)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for _, m := range []string{"one", "two"} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
		if _, got, err := ws.ReadMessage(); err != nil || string(got) != m {
			t.Fatalf("echo %q: %q %v", m, got, err)
		}
	}
	// Another origin's page may not open it, even with the cookie.
	if _, res, err := d.Dial(wsURL, http.Header{"Origin": {"http://evil.test"}}); err == nil || res == nil || res.StatusCode != 403 {
		t.Fatalf("cross-origin websocket: %v %v", err, res)
	}
	// Without the grant: 404.
	bare := websocket.Dialer{NetDialContext: d.NetDialContext, HandshakeTimeout: 10 * time.Second}
	if _, res, err := bare.Dial(wsURL, http.Header{"Origin": {origin}}); err == nil || res == nil || res.StatusCode != 404 {
		t.Fatalf("websocket without the grant: %v %v", err, res)
	}
	// The session ends: the open websocket is closed.
	r.targets.end("s1")
	r.p.EndSession("s1")
	ws.SetReadDeadline(time.Now().Add(time.Minute))
	if _, _, err := ws.ReadMessage(); err == nil || isTimeout(err) {
		t.Fatalf("the websocket outlived its session: %v", err)
	}
	if code, _ := get(t, c, origin+"/start"); code != 404 {
		t.Fatalf("a port of an ended session: %d", code)
	}
}

func TestProxyStreamsAndEnds(t *testing.T) {
	release := make(chan struct{})
	r := newRig(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/start" {
			io.WriteString(w, "hello from the node: /start")
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
			io.WriteString(w, "second\n")
		case <-req.Context().Done():
		}
	}))
	defer close(release)
	c := r.browser(t)
	origin := r.open(t, c, "s1")
	res, err := c.Get(origin + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	// The first line arrives while the node still holds the response open.
	if line, err := br.ReadString('\n'); err != nil || line != "first\n" {
		t.Fatalf("streamed line: %q %v", line, err)
	}
	r.targets.end("s1")
	r.p.EndSession("s1")
	// The node still holds the stream open: only labd can cut it short.
	rest, err := io.ReadAll(br)
	if err == nil || isTimeout(err) || strings.Contains(string(rest), "second") {
		t.Fatalf("the stream outlived its session: %q %v", rest, err)
	}
}

func TestProxyConnectionLimit(t *testing.T) {
	hold := make(chan struct{})
	r := newRig(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/start" {
			io.WriteString(w, "hello from the node: /start")
			return
		}
		w.(http.Flusher).Flush()
		select {
		case <-hold:
		case <-req.Context().Done():
		}
	}))
	defer close(hold)
	c := r.browser(t)
	origin := r.open(t, c, "s1")
	var bodies []io.Closer
	defer func() {
		for _, b := range bodies {
			b.Close()
		}
	}()
	for range r.p.cfg.MaxConns {
		res, err := c.Get(origin + "/hold")
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, res.Body)
	}
	if code, _ := get(t, c, origin+"/more"); code != 503 {
		t.Fatalf("past the connection limit: %d, want 503", code)
	}
}

// jar keeps cookies per host, like a browser's host-only cookies.
type jar struct {
	mu sync.Mutex
	m  map[string]map[string]*http.Cookie
}

func newJar() *jar { return &jar{m: map[string]map[string]*http.Cookie{}} }

func (j *jar) SetCookies(u *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	h := u.Hostname()
	if j.m[h] == nil {
		j.m[h] = map[string]*http.Cookie{}
	}
	for _, c := range cs {
		j.m[h][c.Name] = c
	}
}

func (j *jar) Cookies(u *url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []*http.Cookie
	for _, c := range j.m[u.Hostname()] {
		out = append(out, c)
	}
	return out
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

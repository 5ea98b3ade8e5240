// Package proxy serves lab web UIs (a Ceph dashboard, an S3 endpoint, any
// declared port of a node) to the browser, each on an origin of its own:
// p<port>-<node>-<token>.<lab domain>. Targets come only from labd's state;
// access is a host-only cookie made from a signed link the API hands out.
package proxy

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Targets finds where a declared port of a ready session listens (and
// whether it serves HTTPS); the lab service satisfies it. ok is false for
// anything not declared, not ready or not live.
type Targets interface {
	Target(session, node string, port int) (addr string, tls, ok bool)
}

// DialFunc opens a connection to addr, a node's address in session's
// network (the Docker runtime dials from inside the node's namespace).
type DialFunc func(ctx context.Context, session, node, addr string) (net.Conn, error)

// Config sets a Proxy up.
type Config struct {
	// Domain is the lab domain (--lab-domain): every lab origin is a host
	// directly under it. It must not be, or hold, the portal's host.
	Domain  string
	Secure  bool // lab origins are https (behind a TLS front): Secure cookies
	Targets Targets
	Dial    DialFunc // nil dials addr from labd's own network
	// FrameAncestors are the portal's origins, which may embed lab ports.
	FrameAncestors []string
	// CookieNames are the portal's cookies, never forwarded to a lab.
	CookieNames []string
	MaxConns    int           // open connections to one session's ports; default 64
	Idle        time.Duration // a connection silent this long is closed; default 10m
	LinkTTL     time.Duration // signed links' lifetime; default 2m
	DialTimeout time.Duration // default 5s
	Log         *slog.Logger
	Now         func() time.Time
}

// Proxy is the lab origins' handler.
type Proxy struct {
	cfg Config
	key [32]byte // signs links; links do not outlive labd
	rp  *httputil.ReverseProxy
	tr  *http.Transport
	csp string

	mu       sync.Mutex
	tokens   map[string]string    // session -> token
	sessions map[string]string    // token -> session
	used     map[string]time.Time // redeemed link nonces -> their expiry
	grants   map[string]grant     // cookie value -> grant
	order    map[string][]string  // session -> its grants, oldest first
	conns    map[string]map[*conn]struct{}
}

// New returns a Proxy.
func New(cfg Config) *Proxy {
	if cfg.MaxConns == 0 {
		cfg.MaxConns = 64
	}
	if cfg.Idle == 0 {
		cfg.Idle = 10 * time.Minute
	}
	if cfg.LinkTTL == 0 {
		cfg.LinkTTL = 2 * time.Minute
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Dial == nil {
		cfg.Dial = func(ctx context.Context, _, _, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		}
	}
	cfg.Domain = strings.ToLower(strings.TrimSuffix(cfg.Domain, "."))
	p := &Proxy{
		cfg: cfg, tokens: map[string]string{}, sessions: map[string]string{}, used: map[string]time.Time{},
		grants: map[string]grant{}, order: map[string][]string{}, conns: map[string]map[*conn]struct{}{},
		csp: "frame-ancestors 'self' " + strings.Join(cfg.FrameAncestors, " "),
	}
	rand.Read(p.key[:])
	p.tr = &http.Transport{
		DialContext:           p.dial,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		ExpectContinueTimeout: time.Second,
		// A node's HTTPS port has its own self-signed certificate; the
		// connection never leaves this host (see DialFunc).
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		TLSHandshakeTimeout: 10 * time.Second,
		DisableCompression:  true, // pass bodies as they are
		ReadBufferSize:      64 << 10,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      p.tr,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.proxyError,
		BufferPool:     bufferPool{},
		ErrorLog:       slog.NewLogLogger(cfg.Log.Handler(), slog.LevelDebug),
	}
	return p
}

// Close drops idle connections to the nodes.
func (p *Proxy) Close() { p.tr.CloseIdleConnections() }

// Route sends requests for hosts under the lab domain to the proxy and
// every other request to next (the API and the site): a lab origin never
// reaches the portal, nor the portal a lab.
func (p *Proxy) Route(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := hostOnly(r.Host)
		if h == p.cfg.Domain || strings.HasSuffix(h, "."+p.cfg.Domain) {
			p.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostOnly is r.Host lowercased, without port or final dot.
func hostOnly(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// target is one port of one node of one session, as the host name says.
type target struct {
	session, node string
	port          int
	host          string // the lab origin's host name
}

type ctxKey struct{}

// parseHost reads p<port>-<node>-<token>.<domain>.
func (p *Proxy) parseHost(h string) (target, bool) {
	label, ok := strings.CutSuffix(h, "."+p.cfg.Domain)
	if !ok || len(label) < tokenLen+5 || label[0] != 'p' || strings.Contains(label, ".") {
		return target{}, false
	}
	tok := label[len(label)-tokenLen:]
	rest := label[1 : len(label)-tokenLen]
	num, node, ok := strings.Cut(rest, "-")
	node, dash := strings.CutSuffix(node, "-")
	if !ok || !dash || node == "" || num == "" || len(num) > 5 || num[0] == '0' {
		return target{}, false
	}
	port := 0
	for _, c := range num {
		if c < '0' || c > '9' {
			return target{}, false
		}
		port = port*10 + int(c-'0')
	}
	p.mu.Lock()
	session, ok := p.sessions[tok]
	p.mu.Unlock()
	if !ok || port > 65535 {
		return target{}, false
	}
	return target{session: session, node: node, port: port, host: h}, true
}

func notFound(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "This lab port is not open here: open it from the lab page.", http.StatusNotFound)
}

// ServeHTTP serves one request to a lab origin.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := p.cfg.Now()
	lw := &logWriter{ResponseWriter: w}
	t, ok := p.parseHost(hostOnly(r.Host))
	defer func() {
		// One line per request, with no query (it may hold a link) and no
		// headers (cookies).
		p.cfg.Log.Info("lab port", "session", t.session, "node", t.node, "port", t.port,
			"method", r.Method, "path", r.URL.Path, "status", lw.status, "bytes", lw.n,
			"took", p.cfg.Now().Sub(start).Round(time.Microsecond))
	}()
	if !ok {
		notFound(lw)
		return
	}
	if _, _, ok := p.cfg.Targets.Target(t.session, t.node, t.port); !ok {
		notFound(lw)
		return
	}
	if r.URL.Path == openPath {
		p.open(lw, r, t)
		return
	}
	if _, ok := p.granted(r, t.session, t.host); !ok {
		notFound(lw)
		return
	}
	if msg := p.crossOrigin(r); msg != "" {
		lw.Header().Set("Cache-Control", "no-store")
		http.Error(lw, msg, http.StatusForbidden)
		return
	}
	p.rp.ServeHTTP(lw, r.WithContext(context.WithValue(r.Context(), ctxKey{}, t)))
}

// open redeems a signed link: a grant cookie for this origin, then on to
// the page asked for.
func (p *Proxy) open(w http.ResponseWriter, r *http.Request, t target) {
	user, err := p.redeem(t.host, r.URL.Query().Get("t"))
	if err != nil {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	next := r.URL.Query().Get("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		next = "/"
	}
	http.SetCookie(w, p.newGrant(t.session, t.host, user))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// crossOrigin refuses what another site or a sibling lab origin makes a
// browser send with the grant cookie: only navigations (the lab page's
// frame, a new window) may come from elsewhere, and a websocket only from
// the origin's own pages. Old browsers without these headers pass.
func (p *Proxy) crossOrigin(r *http.Request) string {
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		if o := r.Header.Get("Origin"); o != "" && hostOnly(strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://")) != hostOnly(r.Host) {
			return "a websocket to a lab port opens only from its own pages"
		}
		return ""
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-site":
		return "another lab's page may not call this lab port"
	case "cross-site":
		if r.Header.Get("Sec-Fetch-Mode") != "navigate" {
			return "another site's page may not call this lab port"
		}
	}
	return ""
}

// rewrite aims the request at the target named by the host name; nothing
// else of the request chooses where it goes. The Host header passes
// through (S3 signatures and virtual hosts sign and route on it).
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	t := pr.In.Context().Value(ctxKey{}).(target)
	pr.Out.URL.Scheme = "http"
	if _, tls, _ := p.cfg.Targets.Target(t.session, t.node, t.port); tls {
		pr.Out.URL.Scheme = "https"
	}
	// The transport pools connections by this name, one pool per session,
	// node and port (all sessions share node addresses); dial reads it back.
	pr.Out.URL.Host = t.session + "." + t.node + ".labd:" + strconv.Itoa(t.port)
	pr.Out.Host = pr.In.Host
	pr.SetXForwarded()
	if p.cfg.Secure {
		pr.Out.Header.Set("X-Forwarded-Proto", "https")
	}
	pr.Out.Header.Del("Authorization")
	pr.Out.Header.Del("Proxy-Authorization")
	p.stripCookies(pr.Out.Header)
}

// stripCookies removes labd's own cookies (the portal's, the grant) from
// the Cookie headers and keeps the lab app's.
func (p *Proxy) stripCookies(h http.Header) {
	vals := h.Values("Cookie")
	if len(vals) == 0 {
		return
	}
	var keep []string
	for _, v := range vals {
		for part := range strings.SplitSeq(v, ";") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if name == "" || p.ours(name) {
				continue
			}
			keep = append(keep, strings.TrimSpace(part))
		}
	}
	h.Del("Cookie")
	if len(keep) > 0 {
		h.Set("Cookie", strings.Join(keep, "; "))
	}
}

func (p *Proxy) ours(name string) bool {
	if name == p.cookieName() || name == "labd-port" || name == "__Host-labd-port" {
		return true
	}
	for _, n := range p.cfg.CookieNames {
		if name == n {
			return true
		}
	}
	return false
}

// modifyResponse lets the lab page frame the response and keeps the lab
// app's cookies on its own origin.
func (p *Proxy) modifyResponse(res *http.Response) error {
	h := res.Header
	h.Del("X-Frame-Options")
	h.Add("Content-Security-Policy", p.csp)
	if sc := h.Values("Set-Cookie"); len(sc) > 0 {
		h.Del("Set-Cookie")
		for _, line := range sc {
			c, err := http.ParseSetCookie(line)
			switch {
			case err != nil || p.ours(c.Name):
				continue // never a cookie of labd's name
			case c.Domain != "":
				// A Domain cookie would reach every lab origin.
				c.Domain = ""
				line = c.String()
			}
			h.Add("Set-Cookie", line)
		}
	}
	return nil
}

var errTooMany = errors.New("too many open connections to this lab's ports")

func (p *Proxy) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	t, _ := r.Context().Value(ctxKey{}).(target)
	status, msg := http.StatusBadGateway, "The lab port does not answer: is its service running in the node?"
	switch {
	case errors.Is(err, errTooMany):
		status, msg = http.StatusServiceUnavailable, "Too many open connections to this lab's ports: close some tabs."
	case errors.Is(err, context.Canceled):
		return
	}
	p.cfg.Log.Debug("lab port proxy", "session", t.session, "node", t.node, "port", t.port, "err", err)
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, msg, status)
}

// dial opens a tracked connection to the target the transport asks for.
func (p *Proxy) dial(ctx context.Context, _, hostport string) (net.Conn, error) {
	host, ps, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	session, node, ok := strings.Cut(strings.TrimSuffix(host, ".labd"), ".")
	port, perr := strconv.Atoi(ps)
	if !ok || perr != nil {
		return nil, fmt.Errorf("bad target %q", hostport)
	}
	addr, _, ok := p.cfg.Targets.Target(session, node, port)
	if !ok {
		return nil, fmt.Errorf("session %s: no port %s/%d", session, node, port)
	}
	p.mu.Lock()
	n := len(p.conns[session])
	p.mu.Unlock()
	if n >= p.cfg.MaxConns {
		return nil, errTooMany
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.DialTimeout)
	defer cancel()
	nc, err := p.cfg.Dial(ctx, session, node, addr)
	if err != nil {
		return nil, err
	}
	c := &conn{Conn: nc, p: p, session: session}
	p.mu.Lock()
	if p.conns[session] == nil {
		p.conns[session] = map[*conn]struct{}{}
	}
	p.conns[session][c] = struct{}{}
	p.mu.Unlock()
	// The session may have ended during the dial: EndSession has run.
	if _, _, ok := p.cfg.Targets.Target(session, node, port); !ok {
		c.Close()
		return nil, fmt.Errorf("session %s ended", session)
	}
	return c, nil
}

// conn is a connection to a node's port: counted against its session's
// limit, closed when the session ends or when silent for Idle.
type conn struct {
	net.Conn
	p       *Proxy
	session string
	once    sync.Once
	renewed time.Time // when the read deadline was last pushed back
}

func (c *conn) Read(b []byte) (int, error) {
	// The deadline moves on at most once a second: resetting its timer on
	// every read costs throughput.
	if now := time.Now(); now.Sub(c.renewed) > time.Second {
		c.renewed = now
		c.Conn.SetReadDeadline(now.Add(c.p.cfg.Idle))
	}
	return c.Conn.Read(b)
}

func (c *conn) Close() error {
	c.once.Do(func() {
		c.p.mu.Lock()
		if set := c.p.conns[c.session]; set != nil {
			delete(set, c)
			if len(set) == 0 {
				delete(c.p.conns, c.session)
			}
		}
		c.p.mu.Unlock()
	})
	return c.Conn.Close()
}

// logWriter keeps the status and size for the access log; Unwrap lets
// the reverse proxy flush streams and hijack websockets through it.
type logWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *logWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *logWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// FrameSource is the CSP source of every lab origin, for the portal's
// frame-src: the lab domain's hosts on any port.
func (p *Proxy) FrameSource() string {
	scheme := "http"
	if p.cfg.Secure {
		scheme = "https"
	}
	return scheme + "://*." + p.cfg.Domain + ":*"
}

// bufferPool lends the reverse proxy 256 KiB copy buffers: fewer, larger
// reads and writes on bulk downloads than its default 32 KiB.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { return make([]byte, 256<<10) }}

func (bufferPool) Get() []byte  { return buffers.Get().([]byte) }
func (bufferPool) Put(b []byte) { buffers.Put(b) } //nolint:staticcheck // a slice header, not worth a pointer

// Package api is labd's HTTP interface: the JSON API, health and metrics,
// and the built site. routes.go lists every route with who may call it;
// errors.go maps every error to a status in one place.
package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/certificate"
	"github.com/xsky-academy/academy/labd/internal/class"
	"github.com/xsky-academy/academy/labd/internal/exam"
	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/terminal"
)

// Checker is something /readyz asks (the database, the Docker daemon).
type Checker interface {
	Ping(ctx context.Context) error
}

// Server serves the API.
type Server struct {
	Labs *lab.Service
	// Classes are lecturers' classes; a lecturer watches only the trainees
	// on their rosters. Nil: no classes, and lecturers watch nobody.
	Classes *class.Service
	// Exams runs certification programs and exams; nil answers their routes 404.
	Exams     *exam.Service
	Terminals *terminal.Manager
	Tickets   *auth.Tickets
	// URL is the site's public base URL (--url); pages of its origin may
	// open terminals, and so may those of Origins.
	URL     string
	Origins []string
	Tokens  *auth.Tokens
	// Accounts signs browsers in (cookie + CSRF); nil serves bearer tokens only.
	Accounts *auth.Accounts
	// Certificates issues and verifies certificates; PDF renders them.
	Certificates *certificate.Service
	PDF          *certificate.PDF
	Log          *slog.Logger
	Ready        map[string]Checker // name -> dependency, for /readyz
	SiteDir      string             // the built site, served at /; "" for none
	// Ports links sessions' web ports (labd's proxy); nil offers none.
	// PortFrames are the CSP sources of their origins, which the lab page
	// frames, such as http://*.labs.localhost:*.
	Ports      PortLinks
	PortFrames []string
	// Registry holds the metrics; the server adds its own collectors to it.
	Registry *prometheus.Registry

	handler http.Handler
	metrics http.Handler
	logins  *prometheus.CounterVec // sign-in attempts by result
}

// maxBody bounds request bodies; the API takes only small JSON documents.
const maxBody = 64 << 10

// Handler returns the server's HTTP handler, building it on first use.
func (s *Server) Handler() http.Handler {
	if s.handler != nil {
		return s.handler
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
	}
	s.logins = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "labd_logins_total",
		Help: "Sign-in attempts by result: ok, wrong (e-mail or password), limited (rate limit)."}, []string{"result"})
	s.Registry.MustRegister(sessionCollector{s.Labs}, s.logins)
	s.metrics = promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt))
	}
	// Unknown API paths and methods answer in JSON, like every other API error.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.Log, &httpError{http.StatusNotFound, "not_found", "no such API route: " + r.Method + " " + r.URL.Path})
	})
	if site, err := newSite(s.SiteDir, []string{"zh", "en"}); s.SiteDir != "" && err == nil {
		site.csp += portFrames(s.PortFrames)
		// "/" with any method, so that "/api/" (more specific) keeps every API path.
		mux.Handle("/", site)
	} else {
		mux.HandleFunc("GET /{$}", s.placeholder)
	}
	s.handler = s.logRequests(mux)
	return s.handler
}

// wrap authenticates and authorizes the caller per the route's access rule,
// then runs the handler and maps its error.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.Access.kind != public && rt.Access.kind != ticketed {
			u, err := s.authenticate(r)
			if err != nil {
				writeError(w, r, s.Log, err)
				return
			}
			if !rt.Access.allows(u.Role) {
				writeError(w, r, s.Log, &httpError{http.StatusForbidden, "forbidden", "your role may not do this"})
				return
			}
			r = r.WithContext(auth.WithUser(r.Context(), u))
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := rt.Handle(w, r); err != nil {
			writeError(w, r, s.Log, err)
		}
	})
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	s.metrics.ServeHTTP(w, r)
	return nil
}

// authenticate finds the caller: a bearer token (scripts, tests) or the
// browser's session cookie. A cookie-authenticated unsafe request must echo
// the session's CSRF token in X-CSRF-Token.
func (s *Server) authenticate(r *http.Request) (auth.User, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if c, err := r.Cookie(sessionCookie); err == nil && s.Accounts != nil {
			return s.cookieUser(r, c.Value)
		}
		return auth.User{}, &httpError{http.StatusUnauthorized, "unauthorized", "sign in first"}
	}
	// The scheme is case-insensitive (RFC 9110 §11.1): "bearer" is Bearer.
	scheme, tok, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return auth.User{}, &httpError{http.StatusUnauthorized, "unauthorized", "the Authorization header must be: Bearer <token>"}
	}
	u, err := s.Tokens.Verify(strings.TrimSpace(tok))
	if err != nil {
		return auth.User{}, &httpError{http.StatusUnauthorized, "unauthorized", "the token is invalid or has expired"}
	}
	// A token cannot be taken back, but its user can be deactivated.
	if s.Accounts != nil {
		if err := s.Accounts.CheckActive(r.Context(), u.ID); err != nil {
			return auth.User{}, err
		}
	}
	return u, nil
}

func (s *Server) cookieUser(r *http.Request, id string) (auth.User, error) {
	acc, csrf, err := s.Accounts.Authenticate(r.Context(), id)
	if err != nil {
		return auth.User{}, err
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if !auth.CheckCSRF(csrf, r.Header.Get(csrfHeader)) {
			return auth.User{}, &httpError{http.StatusForbidden, "csrf", "the request lacks this sign-in's X-CSRF-Token header: reload the page"}
		}
	}
	return acc.User(), nil
}

// actor is the lab service's view of the caller acting on sessions (check,
// reset, extend, end): their own, or any for an admin.
func actor(r *http.Request) lab.Actor {
	u, _ := auth.FromContext(r.Context())
	return lab.Actor{User: u.ID, SeeAll: u.Role == auth.Admin}
}

// watcher is the lab service's view of u watching sessions (reading them,
// observing terminals, replaying recordings, injecting faults): an admin
// watches everyone, a lecturer the trainees on their classes' rosters,
// anyone else only themselves.
func (s *Server) watcher(ctx context.Context, u auth.User) (lab.Actor, error) {
	a := lab.Actor{User: u.ID, SeeAll: u.Role == auth.Admin}
	if u.Role == auth.Lecturer && s.Classes != nil {
		trainees, err := s.Classes.Trainees(ctx, u.ID)
		if err != nil {
			return lab.Actor{}, err
		}
		a.Oversees = trainees
	}
	return a, nil
}

// watcherOf is watcher for the request's caller.
func (s *Server) watcherOf(r *http.Request) (lab.Actor, error) {
	u, _ := auth.FromContext(r.Context())
	return s.watcher(r.Context(), u)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack lets the websocket upgrade take the connection over.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// logRequests logs API calls (method, path, status, time), never headers:
// tokens must not reach the logs.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if strings.HasPrefix(r.URL.Path, "/api/") {
			s.Log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
				"took", time.Since(start).Round(time.Microsecond))
		}
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// placeholder is the home page while the site has not been built: it says
// what runs and where to go.
func (s *Server) placeholder(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var labs strings.Builder
	for _, d := range s.Labs.Catalog().All() {
		fmt.Fprintf(&labs, "<li><b>%s</b> — %s / %s (%s, %d nodes, %d steps)</li>\n",
			html.EscapeString(d.ID), html.EscapeString(d.Title.ZH), html.EscapeString(d.Title.EN),
			d.Duration, len(d.Nodes), len(d.Steps))
	}
	fmt.Fprintf(w, `<!doctype html><html lang="en"><meta charset="utf-8"><title>XSKY Academy labd</title>
<body style="font-family:sans-serif;max-width:42rem;margin:3rem auto;line-height:1.5">
<h1>XSKY Academy · labd is running</h1>
<p>The portal site has not been built yet. The lab API answers at <code>/api/</code>: get a token with
<code>bin/labd token --user you --role trainee</code> and send it as <code>Authorization: Bearer …</code>.</p>
<h2>Labs</h2><ul>%s</ul>
<p><a href="/healthz">/healthz</a> · <a href="/readyz">/readyz</a></p></body></html>
`, labs.String())
}

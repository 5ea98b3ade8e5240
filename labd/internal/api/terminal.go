package api

import (
	"cmp"
	"context"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/terminal"
)

// terminalSession finds the session a caller may open a terminal of, and
// whether they would only watch: the owner writes; an admin, or a lecturer
// watching a trainee of theirs, observes.
func (s *Server) terminalSession(ctx context.Context, u auth.User, id, node string) (*lab.Session, bool, error) {
	a, err := s.watcher(ctx, u)
	if err != nil {
		return nil, false, err
	}
	sess, err := s.Labs.Session(ctx, a, id)
	if err != nil {
		return nil, false, err
	}
	def, ok := s.Labs.Catalog().Lab(sess.Lab)
	if !ok {
		return nil, false, lab.Errorf(lab.EConflict, "the lab %q is no longer offered", sess.Lab)
	}
	if n, ok := def.Node(node); !ok || !n.Terminal {
		return nil, false, lab.Errorf(lab.ENotFound, "node %q of this lab has no terminal", node)
	}
	if sess.State != lab.Ready {
		return nil, false, lab.Errorf(lab.EConflict, "the lab session is %s: terminals open once it is ready", sess.State)
	}
	return sess, sess.Owner != u.ID, nil
}

// createTicket answers {ticket, role, expires_at}: the ticket opens the
// terminal websocket once, within a minute.
func (s *Server) createTicket(w http.ResponseWriter, r *http.Request) error {
	u, _ := auth.FromContext(r.Context())
	id, node := r.PathValue("id"), r.PathValue("node")
	_, observer, err := s.terminalSession(r.Context(), u, id, node)
	if err != nil {
		return err
	}
	t := s.Tickets.Issue(auth.Ticket{User: u, Session: id, Node: node, Observer: observer})
	role := "writer"
	if observer {
		role = "observer"
	}
	return writeJSON(w, http.StatusCreated, map[string]any{
		"ticket": t, "role": role, "expires_at": time.Now().Add(auth.TicketTTL),
	})
}

// originAllowed: browsers send Origin on websockets; it must be the site's
// own (--url) or one on the allowlist (--origins), scheme, host and port
// alike. The request's Host is not consulted: whoever sends the request
// chooses it. Programs that send no Origin are let through (they need a
// ticket all the same, and a page cannot leave Origin out).
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	got := originOf(origin, true)
	if got == "" {
		return false
	}
	for _, o := range append([]string{s.URL}, s.Origins...) {
		if o != "" && originOf(o, false) == got {
			return true
		}
	}
	return false
}

// originOf is the origin of u as scheme://host:port, lower case, the port
// explicit; "" if u is not an http or https origin. strict (an Origin
// header) also refuses a path, query or user; a configured URL may have a
// path, which an origin leaves out.
func originOf(u string, strict bool) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.Opaque != "" {
		return ""
	}
	port := p.Port()
	switch p.Scheme {
	case "http":
		port = cmp.Or(port, "80")
	case "https":
		port = cmp.Or(port, "443")
	default:
		return ""
	}
	if strict && (p.User != nil || p.Path != "" || p.RawQuery != "" || p.Fragment != "" || strings.HasSuffix(p.Host, ":")) {
		return ""
	}
	return p.Scheme + "://" + net.JoinHostPort(strings.ToLower(p.Hostname()), port)
}

// ticketFrom finds "ticket.<id>" among the offered subprotocols.
func ticketFrom(r *http.Request) string {
	for _, p := range websocket.Subprotocols(r) {
		if t, ok := strings.CutPrefix(p, "ticket."); ok {
			return t
		}
	}
	return ""
}

// upgrader: Origin is checked before the upgrade, with a JSON error.
var upgrader = terminal.Upgrader()

// openTerminal upgrades to a tty.v1 websocket on the node's shell.
func (s *Server) openTerminal(w http.ResponseWriter, r *http.Request) error {
	if !s.originAllowed(r) {
		return &httpError{http.StatusForbidden, "origin_not_allowed", "this page's origin may not open terminals"}
	}
	id, node := r.PathValue("id"), r.PathValue("node")
	tk, ok := s.Tickets.Redeem(ticketFrom(r))
	if !ok {
		return &httpError{http.StatusUnauthorized, "unauthorized", "a terminal needs a fresh ticket: POST .../ticket first"}
	}
	if !slices.Contains(websocket.Subprotocols(r), terminal.Protocol) {
		return &httpError{http.StatusBadRequest, "protocol", "offer the tty.v1 subprotocol"}
	}
	if tk.Session != id || tk.Node != node {
		return &httpError{http.StatusForbidden, "forbidden", "this ticket is for another terminal"}
	}
	// Its user may have been deactivated since the ticket was issued.
	if s.Accounts != nil {
		if err := s.Accounts.CheckActive(r.Context(), tk.User.ID); err != nil {
			return err
		}
	}
	// The session may have ended since the ticket was issued.
	if _, _, err := s.terminalSession(r.Context(), tk.User, id, node); err != nil {
		return err
	}
	q := r.URL.Query()
	from, _ := strconv.ParseUint(q.Get("from"), 10, 64)
	cols, rows := sizeParam(q.Get("cols"), 80, terminal.MaxCols), sizeParam(q.Get("rows"), 24, terminal.MaxRows)
	hub, err := s.Terminals.Hub(r.Context(), id, node, !tk.Observer, cols, rows)
	if err != nil {
		return err
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil // the upgrader has answered
	}
	c, _ := hub.Attach(tk.Observer, from)
	if !tk.Observer {
		s.Labs.Touch(id)
	}
	terminal.Serve(ws, c, s.Log)
	return nil
}

// restartTerminal ends a node's shell, for its owner or an admin: its
// windows are told "restarted" and reconnect to a new one. It is the way out
// of a shell that takes no input (a stalled terminal).
func (s *Server) restartTerminal(w http.ResponseWriter, r *http.Request) error {
	u, _ := auth.FromContext(r.Context())
	id, node := r.PathValue("id"), r.PathValue("node")
	_, observer, err := s.terminalSession(r.Context(), u, id, node)
	if err != nil {
		return err
	}
	if observer && u.Role != auth.Admin {
		return &httpError{http.StatusForbidden, "forbidden", "only the session's trainee or an admin may restart its terminal"}
	}
	s.Terminals.Restart(id, node)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func sizeParam(v string, def, max int) int {
	n, err := strconv.Atoi(v)
	if err != nil || n < terminal.MinSize || n > max {
		return def
	}
	return n
}

func (s *Server) listRecordings(w http.ResponseWriter, r *http.Request) error {
	a, err := s.watcherOf(r)
	if err != nil {
		return err
	}
	if _, err := s.Labs.Session(r.Context(), a, r.PathValue("id")); err != nil {
		return err
	}
	recs, err := s.Terminals.Recordings(r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, recs)
}

func (s *Server) getRecording(w http.ResponseWriter, r *http.Request) error {
	a, err := s.watcherOf(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := s.Labs.Session(r.Context(), a, id); err != nil {
		return err
	}
	name, ok := strings.CutSuffix(r.PathValue("file"), ".cast")
	path, found := s.Terminals.RecordingPath(id, name)
	if !ok || !found {
		return lab.Errorf(lab.ENotFound, "no recording %q", r.PathValue("file"))
	}
	w.Header().Set("Content-Type", "application/x-asciicast")
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+"-"+name+`.cast"`)
	http.ServeFile(w, r, path)
	return nil
}

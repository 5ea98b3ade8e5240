package api

import (
	"net"
	"net/http"
	"strings"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// PortLinks makes the signed links that open a session's declared web
// ports on their own origins (labd's proxy, internal/proxy).
type PortLinks interface {
	Link(session, node string, port int, path, user, hostPort string) string
}

type portView struct {
	Node  string   `json:"node"`
	Name  string   `json:"name"`
	Port  int      `json:"port"`
	Title textView `json:"title"`
	// URL is a short-lived, single-use link that opens the port on its own
	// origin for the caller; fetch the session again for a fresh one.
	URL string `json:"url"`
}

// portViews lists the declared ports of a ready session with links for the
// caller, who may watch the session (its owner, their lecturer, an admin).
func (s *Server) portViews(r *http.Request, sess *lab.Session, user string) []portView {
	if s.Ports == nil || sess.State != lab.Ready {
		return nil
	}
	def, ok := s.Labs.Catalog().Lab(sess.Lab)
	if !ok {
		return nil
	}
	// The browser reaches lab origins on the port it reached the portal on.
	_, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		port = ""
	}
	var out []portView
	for _, n := range def.Nodes {
		for _, p := range n.Ports {
			out = append(out, portView{Node: n.Name, Name: p.Name, Port: p.Port, Title: p.Title,
				URL: s.Ports.Link(sess.ID, n.Name, p.Port, p.Path, user, port)})
		}
	}
	return out
}

// CookieNames are the portal's cookies, which labd's proxy never forwards
// to a lab (were the portal's cookies ever sent to a lab origin).
var CookieNames = []string{sessionCookie, csrfCookie}

// portFrames is the site CSP's frame-src for lab ports' origins, if any.
func portFrames(sources []string) string {
	if len(sources) == 0 {
		return ""
	}
	return "; frame-src " + strings.Join(sources, " ")
}

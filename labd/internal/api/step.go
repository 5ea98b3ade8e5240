package api

import (
	"net/http"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// foregroundView is what the lab page types into a node's terminal: one
// line after another, each with Enter.
type foregroundView struct {
	Node     string   `json:"node"`
	Commands []string `json:"commands"`
}

// newForegroundView returns nil for a foreground that types nothing.
func newForegroundView(f *lab.Foreground) *foregroundView {
	if f == nil || f.Body == "" {
		return nil
	}
	return &foregroundView{Node: f.Node, Commands: f.Commands()}
}

// enterStep is the lab page opening a step: its on_enter runs (once per
// session), and the foreground commands not yet typed come back, the lab's
// own with the first step opened.
func (s *Server) enterStep(w http.ResponseWriter, r *http.Request) error {
	e, err := s.Labs.Enter(r.Context(), actor(r), r.PathValue("id"), r.PathValue("step"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"entered":        true,
		"foreground":     newForegroundView(e.Step),
		"lab_foreground": newForegroundView(e.Lab),
	})
}

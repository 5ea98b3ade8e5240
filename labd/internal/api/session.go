package api

import (
	"context"
	"math"
	"net/http"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// Views: the JSON shapes of design §5. Times are RFC 3339; zero times are left out.

type textView = lab.Text

type labNodeView struct {
	Name     string `json:"name"`
	Terminal bool   `json:"terminal"`
}

type labStepView struct {
	ID    string   `json:"id"`
	Title textView `json:"title"`
	Hint  textView `json:"hint,omitzero"`
	// Foreground is typed into a terminal when the step opens (step.go).
	Foreground *foregroundView `json:"foreground,omitempty"`
}

type labView struct {
	ID          string          `json:"id"`
	Title       textView        `json:"title"`
	Summary     textView        `json:"summary,omitzero"`
	Duration    string          `json:"duration"`
	TimeLimit   string          `json:"time_limit"`
	IdleTimeout string          `json:"idle_timeout"`
	Nodes       []labNodeView   `json:"nodes"`
	Steps       []labStepView   `json:"steps"`
	Foreground  *foregroundView `json:"foreground,omitempty"`
}

func newLabView(d *lab.Definition) labView {
	v := labView{
		ID: d.ID, Title: d.Title, Summary: d.Summary,
		Duration: d.Duration.String(), TimeLimit: d.TimeLimit.String(), IdleTimeout: d.IdleTimeout.String(),
		Nodes: []labNodeView{}, Steps: []labStepView{}, Foreground: newForegroundView(&d.Foreground),
	}
	for _, n := range d.Nodes {
		v.Nodes = append(v.Nodes, labNodeView{Name: n.Name, Terminal: n.Terminal})
	}
	for _, st := range d.Steps {
		v.Steps = append(v.Steps, labStepView{ID: st.ID, Title: st.Title, Hint: st.Hint, Foreground: newForegroundView(&st.Foreground)})
	}
	return v
}

type sessionNodeView struct {
	Name     string `json:"name"`
	Address  string `json:"address,omitempty"`
	Terminal bool   `json:"terminal"`
}

type stepView struct {
	ID        string    `json:"id"`
	Passed    bool      `json:"passed"`
	Output    string    `json:"output,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

type sessionView struct {
	ID        string            `json:"id"`
	Lab       string            `json:"lab"`
	Owner     string            `json:"owner"`
	State     lab.State         `json:"state"`
	Reason    string            `json:"reason,omitempty"`
	Nodes     []sessionNodeView `json:"nodes"`
	Steps     []stepView        `json:"steps"`
	CreatedAt time.Time         `json:"created_at"`
	ReadyAt   time.Time         `json:"ready_at,omitzero"`
	ExpiresAt time.Time         `json:"expires_at,omitzero"`
	EndedAt   time.Time         `json:"ended_at,omitzero"`
	// ExtendLeft is how much longer extensions may still make the session, in seconds.
	ExtendLeft int64 `json:"extend_left_seconds"`
	// Ports are a ready session's web ports (GET /api/sessions/{id} only).
	Ports []portView `json:"ports,omitempty"`
	// Queue is the place in line of a queued session.
	Queue *queueView `json:"queue,omitempty"`
	// Notice: the host broke the setup; what happens next, in both languages.
	Notice *noticeView `json:"notice,omitempty"`
	// Pool marks an unclaimed warm-pool session (admins see them).
	Pool bool `json:"pool,omitempty"`
	// EnvironmentLeft: ended, but its environment is still being removed
	// (it holds capacity until then).
	EnvironmentLeft bool `json:"environment_left,omitempty"`
}

type noticeView struct {
	Cause    string `json:"cause"` // aio, memory, pids
	ZH       string `json:"zh"`
	EN       string `json:"en"`
	Retrying bool   `json:"retrying"`
}

type queueView struct {
	Position int `json:"position"`
	// EstimateSeconds is how long until the session should be ready; 0 when unknown.
	EstimateSeconds int64 `json:"estimate_seconds"`
}

func (s *Server) newSessionView(sess *lab.Session) sessionView {
	v := sessionView{
		ID: sess.ID, Lab: sess.Lab, Owner: sess.Owner, State: sess.State, Reason: sess.Reason,
		Nodes: []sessionNodeView{}, Steps: []stepView{},
		CreatedAt: sess.Created, ReadyAt: sess.Ready, EndedAt: sess.Ended,
		Pool: sess.Pool(), EnvironmentLeft: sess.EnvLeft,
	}
	if sess.State.Live() && sess.State != lab.Queued {
		v.ExpiresAt = sess.Expires
	}
	if q := sess.Queue; q != nil {
		v.Queue = &queueView{Position: q.Position, EstimateSeconds: int64(math.Ceil(q.Estimate.Seconds()))}
	}
	if n := sess.Notice; n != nil {
		v.Notice = &noticeView{Cause: string(n.Cause), ZH: n.ZH, EN: n.EN, Retrying: n.Retrying}
	}
	def, ok := s.Labs.Catalog().Lab(sess.Lab)
	if !ok {
		return v
	}
	v.ExtendLeft = int64((def.TimeLimit.D() - sess.Extended).Seconds())
	addr := map[string]string{}
	for _, n := range sess.Nodes {
		addr[n.Name] = n.Address
	}
	for _, n := range def.Nodes {
		v.Nodes = append(v.Nodes, sessionNodeView{Name: n.Name, Address: addr[n.Name], Terminal: n.Terminal})
	}
	results := map[string]lab.StepResult{}
	for _, r := range sess.Steps {
		results[r.Step] = r
	}
	for _, st := range def.Steps {
		r := results[st.ID]
		v.Steps = append(v.Steps, stepView{ID: st.ID, Passed: r.Passed, Output: r.Output, CheckedAt: r.Checked})
	}
	return v
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	status, checks := http.StatusOK, map[string]string{}
	for name, c := range s.Ready {
		if err := c.Ping(ctx); err != nil {
			status, checks[name] = http.StatusServiceUnavailable, "unavailable"
			s.Log.Warn("not ready", "dependency", name, "err", err)
			continue
		}
		checks[name] = "ok"
	}
	return writeJSON(w, status, map[string]any{"ready": status == http.StatusOK, "checks": checks})
}

func (s *Server) listLabs(w http.ResponseWriter, r *http.Request) error {
	out := []labView{}
	for _, d := range s.Labs.Catalog().All() {
		out = append(out, newLabView(d))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getLab(w http.ResponseWriter, r *http.Request) error {
	d, ok := s.Labs.Catalog().Lab(r.PathValue("lab"))
	if !ok {
		return lab.Errorf(lab.ENotFound, "no lab %q", r.PathValue("lab"))
	}
	return writeJSON(w, http.StatusOK, newLabView(d))
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Lab string `json:"lab"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if req.Lab == "" {
		return lab.Errorf(lab.EInvalid, `name the lab: {"lab": "<id>"}`)
	}
	sess, created, err := s.Labs.Create(r.Context(), actor(r).User, req.Lab)
	if err != nil {
		return err
	}
	status := http.StatusCreated // queued too: it starts by itself
	if !created {
		status = http.StatusOK // the caller's live session of this lab
	}
	w.Header().Set("Location", "/api/sessions/"+sess.ID)
	return writeJSON(w, status, s.newSessionView(sess))
}

// listSessions lists the caller's sessions (an admin's: everyone's). With
// ?trainees=1 a lecturer's list has their trainees' too; without it, pages
// that look for "my session of this lab" never find a trainee's.
func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) error {
	a := actor(r)
	if r.URL.Query().Get("trainees") == "1" {
		var err error
		if a, err = s.watcherOf(r); err != nil {
			return err
		}
	}
	list, err := s.Labs.Sessions(r.Context(), a, r.URL.Query().Get("live") == "1")
	if err != nil {
		return err
	}
	out := make([]sessionView, 0, len(list))
	for _, sess := range list {
		out = append(out, s.newSessionView(sess))
	}
	return writeJSON(w, http.StatusOK, out)
}

// maxWait bounds ?wait= on GET /api/sessions/{id}.
const maxWait = 60 * time.Second

// getSession returns a session. With ?wait=30s it waits (at most that long)
// while the session is queued or provisioning and returns when its state
// changes, so a client learns of "ready" at once instead of polling.
func (s *Server) getSession(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	a, err := s.watcherOf(r)
	if err != nil {
		return err
	}
	var sess *lab.Session
	if q := r.URL.Query().Get("wait"); q != "" {
		d, perr := time.ParseDuration(q)
		if perr != nil || d < 0 || d > maxWait {
			return lab.Errorf(lab.EInvalid, "wait: want a duration up to %s, such as 30s", maxWait)
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		sess, err = s.Labs.WaitChange(ctx, a, id)
	} else {
		sess, err = s.Labs.Session(r.Context(), a, id)
	}
	if err != nil {
		return err
	}
	v := s.newSessionView(sess)
	v.Ports = s.portViews(r, sess, a.User)
	return writeJSON(w, http.StatusOK, v)
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.Labs.Destroy(r.Context(), actor(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) checkStep(w http.ResponseWriter, r *http.Request) error {
	lang, err := checkLang(r)
	if err != nil {
		return err
	}
	res, err := s.Labs.CheckIn(r.Context(), actor(r), r.PathValue("id"), r.PathValue("step"), lang)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"step": res.Step, "passed": res.Passed, "output": res.Output,
		"checked_at": res.Checked, "duration_ms": res.Duration.Milliseconds(),
	})
}

func (s *Server) resetSession(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.Labs.Reset(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, s.newSessionView(sess))
}

func (s *Server) extendSession(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.Labs.Extend(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.newSessionView(sess))
}

// injectFault applies {node, action[, path, size]} to a trainee's lab session.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Node   string `json:"node"`
		Action string `json:"action"`
		Path   string `json:"path"`
		Size   string `json:"size"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	f := lab.Fault{Node: req.Node, Action: req.Action, Path: req.Path}
	if req.Size != "" {
		size, err := lab.ParseSize(req.Size)
		if err != nil {
			return lab.Errorf(lab.EInvalid, "size: %v", err)
		}
		f.Size = size
	}
	a, err := s.watcherOf(r)
	if err != nil {
		return err
	}
	if err := s.Labs.InjectFault(r.Context(), a, r.PathValue("id"), f); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/class"
	"github.com/xsky-academy/academy/labd/internal/exam"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// Classes: a lecturer's own classes (an admin's: all). Another lecturer's
// class answers 404 like a missing one, so class ids reveal nothing.

// duration is a Go duration in JSON as a string, such as "15m".
type duration time.Duration

func (d duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`want a duration such as "15m"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf(`%q is not a duration such as "15m"`, s)
	}
	*d = duration(v)
	return nil
}

type classView struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Course     string    `json:"course"`
	Lecturer   string    `json:"lecturer"`
	Labs       []string  `json:"labs"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Capacity   int       `json:"capacity"`
	StuckAfter duration  `json:"stuck_after"`
	CreatedAt  time.Time `json:"created_at"`
}

func newClassView(c *class.Class) classView {
	return classView{ID: c.ID, Title: c.Title, Course: c.Course, Lecturer: c.Lecturer, Labs: c.Labs,
		Start: c.Start, End: c.End, Capacity: c.Capacity, StuckAfter: duration(c.StuckAfter), CreatedAt: c.Created}
}

func who(r *http.Request) class.Who {
	u, _ := auth.FromContext(r.Context())
	return class.Who{User: u.ID, Admin: u.Role == auth.Admin}
}

// classes returns the class service, or a 404 when labd runs without one.
func (s *Server) classes() (*class.Service, error) {
	if s.Classes == nil {
		return nil, lab.Errorf(lab.ENotFound, "this labd runs no classes")
	}
	return s.Classes, nil
}

func (s *Server) listClasses(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.classes()
	if err != nil {
		return err
	}
	cs, err := svc.Classes(r.Context(), who(r))
	if err != nil {
		return err
	}
	out := make([]classView, 0, len(cs))
	for _, c := range cs {
		out = append(out, newClassView(c))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) createClass(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.classes()
	if err != nil {
		return err
	}
	var req struct {
		Title      string    `json:"title"`
		Course     string    `json:"course"`
		Labs       []string  `json:"labs"`
		Start      time.Time `json:"start"`
		End        time.Time `json:"end"`
		Capacity   int       `json:"capacity"`
		StuckAfter duration  `json:"stuck_after"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	c, err := svc.Create(r.Context(), who(r), class.Class{Title: req.Title, Course: req.Course, Labs: req.Labs,
		Start: req.Start, End: req.End, Capacity: req.Capacity, StuckAfter: time.Duration(req.StuckAfter)})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/classes/"+c.ID)
	return writeJSON(w, http.StatusCreated, newClassView(c))
}

func (s *Server) getClass(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.classes()
	if err != nil {
		return err
	}
	c, err := svc.Class(r.Context(), who(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newClassView(c))
}

// endClass ends a class now: its lab reservation is released (unclaimed
// pool environments removed, capacity given back); trainees' running
// sessions keep running.
func (s *Server) endClass(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.classes()
	if err != nil {
		return err
	}
	c, err := svc.End(r.Context(), who(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newClassView(c))
}

type memberView struct {
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	User      string    `json:"user,omitempty"` // the account, once there is one
	InvitedAt time.Time `json:"invited_at"`
}

func (s *Server) getRoster(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.classes()
	if err != nil {
		return err
	}
	ms, err := svc.Roster(r.Context(), who(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]memberView, 0, len(ms))
	for _, m := range ms {
		out = append(out, memberView{m.Name, m.Email, m.User, m.Invited})
	}
	return writeJSON(w, http.StatusOK, out)
}

type invitationView struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	// URL is the link to send the trainee; "" when they have an account
	// already and just sign in.
	URL string `json:"url"`
}

// importRoster takes a CSV roster (text/csv) whole or not at all: a bad line
// answers 400 invalid_roster with every bad line in error.details. It
// answers the invitation links, in the page language ?lang=zh|en.
func (s *Server) importRoster(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.classes()
	if err != nil {
		return err
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || (mt != "text/csv" && mt != "text/plain") {
		return &httpError{http.StatusUnsupportedMediaType, "unsupported_media_type", "send the roster as text/csv: one trainee per line, name,email"}
	}
	lang := r.URL.Query().Get("lang")
	switch lang {
	case "":
		lang = "zh"
	case "zh", "en":
	default:
		return lab.Errorf(lab.EInvalid, "lang: zh or en")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &httpError{http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the roster is larger than %d bytes: import it in parts", tooBig.Limit)}
		}
		return err
	}
	invs, err := svc.Import(r.Context(), who(r), r.PathValue("id"), body)
	if err != nil {
		return err
	}
	out := make([]invitationView, 0, len(invs))
	for _, inv := range invs {
		out = append(out, invitationView{inv.Name, inv.Email, absoluteURL(r, lang, inv.URL)})
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"invitations": out})
}

// absoluteURL makes an invitation path a link to send: this site's scheme
// and host, the page's language.
func absoluteURL(r *http.Request, lang, path string) string {
	if !strings.HasPrefix(path, "/") {
		return path
	}
	if rest, ok := strings.CutPrefix(path, "/zh/"); ok {
		path = "/" + lang + "/" + rest
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

type progressSessionView struct {
	sessionView
	StepsPassed int `json:"steps_passed"`
	StepsTotal  int `json:"steps_total"`
}

type traineeView struct {
	memberView
	Sessions     []progressSessionView `json:"sessions"`
	LastActivity time.Time             `json:"last_activity,omitzero"`
	Stuck        bool                  `json:"stuck"`
	Passed       []string              `json:"passed"`
}

type classLabView struct {
	ID    string   `json:"id"`
	Title textView `json:"title"`
	Steps int      `json:"steps"`
}

// classProgress answers the class, its labs and every trainee's sessions in
// them with their step results, last activity, the stuck flag and the labs
// passed.
func (s *Server) classProgress(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.classes()
	if err != nil {
		return err
	}
	steps := func(labID string) int {
		if d, ok := s.Labs.Catalog().Lab(labID); ok {
			return len(d.Steps)
		}
		return 0
	}
	c, err := svc.Class(r.Context(), who(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	prog, err := svc.Progress(r.Context(), who(r), c.ID, steps)
	if err != nil {
		return err
	}
	labs := make([]classLabView, 0, len(c.Labs))
	for _, l := range c.Labs {
		v := classLabView{ID: l, Title: lab.Text{EN: l, ZH: l}}
		if d, ok := s.Labs.Catalog().Lab(l); ok {
			v.Title, v.Steps = d.Title, len(d.Steps)
		}
		labs = append(labs, v)
	}
	trainees := make([]traineeView, 0, len(prog))
	for _, p := range prog {
		t := traineeView{
			memberView:   memberView{p.Name, p.Email, p.User, p.Invited},
			Sessions:     []progressSessionView{},
			LastActivity: p.LastActivity, Stuck: p.Stuck, Passed: p.Passed,
		}
		if t.Passed == nil {
			t.Passed = []string{}
		}
		for _, sess := range p.Sessions {
			v := progressSessionView{sessionView: s.newSessionView(sess), StepsTotal: steps(sess.Lab)}
			for _, st := range v.Steps {
				if st.Passed {
					v.StepsPassed++
				}
			}
			t.Sessions = append(t.Sessions, v)
		}
		trainees = append(trainees, t)
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"class": newClassView(c), "labs": labs, "trainees": trainees, "at": time.Now().UTC(),
	})
}

// classCertificateView is one trainee's outcome of a bulk issuance.
type classCertificateView struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	// Status: issued (now), held (already), not_eligible (requirements
	// missing), revoked (their certificate is revoked: only an admin
	// reissues), no_account (invited, not yet signed up).
	Status       string         `json:"status"`
	Code         string         `json:"code,omitempty"`
	URL          string         `json:"verify_url,omitempty"`
	Missing      []exam.Missing `json:"missing,omitempty"`
	RevokeReason string         `json:"revoke_reason,omitempty"`
}

// issueClassCertificates claims {program}'s certificate for every trainee
// of the class who meets its requirements. It is idempotent: a trainee who
// holds the certificate keeps it (status held), so the lecturer may run it
// again after more trainees finish.
func (s *Server) issueClassCertificates(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.classes()
	if err != nil {
		return err
	}
	ex, err := s.exams()
	if err != nil {
		return err
	}
	var req struct {
		Program string `json:"program"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if _, ok := ex.Programs.Program(req.Program); !ok {
		return lab.Errorf(lab.EInvalid, "program: no certification program %q", req.Program)
	}
	ms, err := svc.Roster(r.Context(), who(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]classCertificateView, 0, len(ms))
	for _, m := range ms {
		v := classCertificateView{Name: m.Name, Email: m.Email, Status: "no_account"}
		if m.User != "" {
			c, err := ex.Claim(r.Context(), m.User, req.Program)
			var ce *exam.ClaimError
			switch {
			case err == nil && c.New:
				v.Status, v.Code = "issued", c.Code
			case err == nil:
				v.Status, v.Code = "held", c.Code
			case errors.As(err, &ce) && ce.Code == exam.ERequirements:
				v.Status, v.Missing = "not_eligible", ce.Missing
			case errors.As(err, &ce) && ce.Code == exam.ERevoked:
				v.Status, v.Code, v.RevokeReason = "revoked", ce.Certificate.Code, ce.Certificate.Reason
			default:
				return fmt.Errorf("issue %s's certificate: %w", m.Email, err)
			}
		}
		if v.Code != "" {
			v.URL = "/v/" + v.Code
		}
		out = append(out, v)
	}
	return writeJSON(w, http.StatusOK, out)
}

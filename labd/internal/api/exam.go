package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/exam"
)

// Certification programs and exams. Exam answers are graded here on the
// server; no response carries the answer key (exam.Paper and exam.Graded
// have no field that could).

type programLabView struct {
	ID      string   `json:"id"`
	Title   textView `json:"title"`
	Passed  bool     `json:"passed"`
	Session string   `json:"session,omitempty"` // the caller's session that passed it
}

type programRequiresView struct {
	ID    string   `json:"id"`
	Title textView `json:"title"`
	Held  bool     `json:"held"`
}

type programExamView struct {
	Draw          int       `json:"draw"`
	PassMark      int       `json:"pass_mark"`
	TimeLimit     string    `json:"time_limit"`
	MaxAttempts   int       `json:"max_attempts"`
	Cooldown      string    `json:"cooldown,omitempty"`
	Passed        bool      `json:"passed"`
	BestScore     int       `json:"best_score"`
	AttemptsUsed  int       `json:"attempts_used"`
	AttemptsLeft  int       `json:"attempts_left"` // of max_attempts, also after a pass
	OpenAttempt   string    `json:"open_attempt,omitempty"`
	OpenDeadline  time.Time `json:"open_deadline,omitzero"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
}

// heldCertificateView is the caller's standing certificate of a program:
// their newest, valid, expired or revoked (with its reason).
type heldCertificateView struct {
	Code         string     `json:"code"`
	Status       string     `json:"status"` // valid, expired or revoked
	VerifyURL    string     `json:"verify_url"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	RevokeReason string     `json:"revoke_reason,omitempty"`
}

type programProgressView struct {
	ID          string                `json:"id"`
	Title       textView              `json:"title"`
	Description textView              `json:"description"`
	Course      string                `json:"course,omitempty"`
	Validity    string                `json:"validity"`
	GrantsRole  string                `json:"grants_role,omitempty"`
	Labs        []programLabView      `json:"labs"`
	Requires    []programRequiresView `json:"requires"`
	Exam        programExamView       `json:"exam"`
	Certificate *heldCertificateView  `json:"certificate"` // the caller's newest, null if none
	// Complete: the certificate can be claimed (or is held); false while a
	// revoked certificate stands, even with nothing missing.
	Complete bool           `json:"complete"`
	Missing  []exam.Missing `json:"missing"` // {kind: lab|certificate|exam, id, title}
}

func newProgramProgressView(pr *exam.Progress) programProgressView {
	p := pr.Program
	v := programProgressView{
		ID: p.ID, Title: p.Title, Description: p.Description, Course: p.Course, Validity: p.Validity.String(),
		GrantsRole: p.GrantsRole, Labs: []programLabView{}, Requires: []programRequiresView{},
		Complete: pr.Complete(), Missing: pr.Missing,
		Exam: programExamView{
			Draw: p.Exam.Draw, PassMark: p.Exam.PassMark, TimeLimit: p.Exam.TimeLimit.String(),
			MaxAttempts: p.Exam.MaxAttempts, Passed: pr.Exam.Passed, BestScore: pr.Exam.BestScore,
			AttemptsUsed: pr.Exam.AttemptsUsed, AttemptsLeft: pr.Exam.AttemptsLeft,
			OpenAttempt: pr.Exam.Open, OpenDeadline: pr.Exam.OpenDeadline, NextAttemptAt: pr.Exam.NextAttemptAt,
		},
	}
	if p.Exam.Cooldown > 0 {
		v.Exam.Cooldown = p.Exam.Cooldown.String()
	}
	if v.Missing == nil {
		v.Missing = []exam.Missing{}
	}
	for _, l := range pr.Labs {
		v.Labs = append(v.Labs, programLabView{ID: l.Lab.ID, Title: l.Lab.Title, Passed: l.Passed, Session: l.Session})
	}
	for _, r := range pr.Requires {
		v.Requires = append(v.Requires, programRequiresView{ID: r.Program.ID, Title: r.Program.Title, Held: r.Held})
	}
	if h := pr.Certificate; h != nil {
		v.Certificate = &heldCertificateView{Code: h.Code, Status: h.Status, VerifyURL: "/v/" + h.Code, RevokeReason: h.Reason}
		if !h.Expires.IsZero() {
			v.Certificate.ExpiresAt = &h.Expires
		}
		if !h.RevokedAt.IsZero() {
			v.Certificate.RevokedAt = &h.RevokedAt
		}
	}
	return v
}

// exams returns the exam service, or a 404 when labd runs without programs.
func (s *Server) exams() (*exam.Service, error) {
	if s.Exams == nil {
		return nil, &httpError{http.StatusNotFound, "not_found", "this labd has no certification programs loaded"}
	}
	return s.Exams, nil
}

func userID(r *http.Request) string {
	u, _ := auth.FromContext(r.Context())
	return u.ID
}

func (s *Server) listPrograms(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.exams()
	if err != nil {
		return err
	}
	prs, err := ex.AllProgress(r.Context(), userID(r))
	if err != nil {
		return err
	}
	out := make([]programProgressView, 0, len(prs))
	for _, pr := range prs {
		out = append(out, newProgramProgressView(pr))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getProgram(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.exams()
	if err != nil {
		return err
	}
	pr, err := ex.Progress(r.Context(), userID(r), r.PathValue("program"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newProgramProgressView(pr))
}

type claimView struct {
	Program     string `json:"program"`
	Code        string `json:"code"`
	VerifyURL   string `json:"verify_url"`
	GrantsRole  string `json:"grants_role,omitempty"`
	RoleGranted bool   `json:"role_granted,omitempty"` // sign in again to use the new role
	New         bool   `json:"new"`
}

// claimProgram answers 201 with a new certificate, 200 with one already
// held, 409 requirements_not_met saying what is missing (details.missing),
// 409 revoked while the caller's newest certificate is revoked
// (details.certificate, with its reason).
func (s *Server) claimProgram(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.exams()
	if err != nil {
		return err
	}
	c, err := ex.Claim(r.Context(), userID(r), r.PathValue("program"))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if c.New {
		status = http.StatusCreated
	}
	return writeJSON(w, status, claimView{Program: c.Program, Code: c.Code, VerifyURL: "/v/" + c.Code, GrantsRole: c.GrantsRole, RoleGranted: c.RoleGranted, New: c.New})
}

// startAttempt starts the caller's attempt of an exam or resumes the open one.
func (s *Server) startAttempt(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.exams()
	if err != nil {
		return err
	}
	// This GET changes state (design §5), and a link on another site is a
	// top-level navigation that carries the SameSite=Lax cookie: it could
	// burn one of the caller's attempts. Browsers say where a request comes
	// from; the exam page's fetch is same-origin and not a navigation.
	if r.Header.Get("Sec-Fetch-Mode") == "navigate" || r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return &httpError{http.StatusForbidden, "forbidden", "start the exam from its page on this site"}
	}
	p, err := ex.Start(r.Context(), userID(r), r.PathValue("exam"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

// submitAttempt grades {"answers": {...}} for the caller's own attempt.
func (s *Server) submitAttempt(w http.ResponseWriter, r *http.Request) error {
	ex, err := s.exams()
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := readJSON(r, &raw); err != nil {
		return err
	}
	ans, err := exam.ParseAnswers(raw)
	if err != nil {
		return err
	}
	g, err := ex.Submit(r.Context(), userID(r), r.PathValue("exam"), r.PathValue("attempt"), ans)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}

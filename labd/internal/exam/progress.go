package exam

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// Progress is a user's way through a program.
type Progress struct {
	Program  *Program
	Labs     []LabProgress
	Requires []RequiredProgram
	Exam     ExamProgress
	// Certificate is the user's standing certificate (valid, expired or
	// revoked), nil if they never had one.
	Certificate *Holding
	// Missing lists what is left before the certificate can be claimed.
	Missing []Missing
}

// Held reports whether the user holds a valid certificate of the program.
func (p *Progress) Held() bool { return p.Certificate != nil && p.Certificate.Status == HeldValid }

// Revoked reports whether the user's standing certificate is revoked.
func (p *Progress) Revoked() bool { return p.Certificate != nil && p.Certificate.Status == HeldRevoked }

// Complete reports whether the certificate can be claimed (or is held):
// every requirement met and no revoked certificate standing.
func (p *Progress) Complete() bool { return len(p.Missing) == 0 && !p.Revoked() }

// Kinds of Missing.
const (
	MissingLab         = "lab"         // a lab to pass
	MissingCertificate = "certificate" // a required program's certificate to hold
	MissingExam        = "exam"        // the program's exam to pass
)

// Missing is one requirement not met yet, as data: the site words it in
// its page's language.
type Missing struct {
	Kind  string   `json:"kind"`  // MissingLab, MissingCertificate or MissingExam
	ID    string   `json:"id"`    // the lab, the required program, or the program whose exam
	Title lab.Text `json:"title"` // the lab's or program's title
}

// String says it in English, for messages and logs.
func (m Missing) String() string {
	switch m.Kind {
	case MissingLab:
		return fmt.Sprintf("pass the lab %q (%s)", m.Title.EN, m.ID)
	case MissingCertificate:
		return fmt.Sprintf("hold the certificate %q (%s)", m.Title.EN, m.ID)
	}
	return "pass the exam"
}

// ClaimError is a refused claim: the requirements not met, or the revoked
// certificate that stands. The API sends Missing or Certificate as details.
type ClaimError struct {
	Code        string // ERequirements or ERevoked
	Message     string
	Missing     []Missing
	Certificate *Holding
}

func (e *ClaimError) Error() string { return e.Message }

// ErrorCode lets the API map the error to a status.
func (e *ClaimError) ErrorCode() string { return e.Code }

// ErrorDetails is what the API adds to the error's message.
func (e *ClaimError) ErrorDetails() any {
	if e.Code == ERevoked && e.Certificate != nil {
		h := e.Certificate
		return map[string]any{"certificate": map[string]any{
			"code": h.Code, "status": h.Status, "revoke_reason": h.Reason, "revoked_at": h.RevokedAt, "verify_url": "/v/" + h.Code,
		}}
	}
	return map[string]any{"missing": e.Missing}
}

func revokedError(p *Program, h *Holding) error {
	return &ClaimError{Code: ERevoked, Certificate: h, Message: fmt.Sprintf(
		"your certificate %s of %q was revoked on %s: %s; only an administrator can issue it again",
		h.Code, p.Title.EN, h.RevokedAt.UTC().Format(time.DateOnly), h.Reason)}
}

// LabProgress says whether a required lab is passed, and in which session.
type LabProgress struct {
	Lab     *lab.Definition
	Passed  bool
	Session string
}

// RequiredProgram says whether a required program's certificate is held.
type RequiredProgram struct {
	Program *Program
	Held    bool
}

// ExamProgress is the state of a user's exam.
type ExamProgress struct {
	Passed        bool
	BestScore     int
	Attempt       string // the passed attempt, for evidence
	AttemptsUsed  int
	AttemptsLeft  int
	Open          string    // an open attempt to resume, or ""
	OpenDeadline  time.Time // its deadline
	NextAttemptAt time.Time // when a cool-down ends, if one runs
}

// Progress returns user's progress in program.
func (s *Service) Progress(ctx context.Context, user, program string) (*Progress, error) {
	p, err := s.program(program)
	if err != nil {
		return nil, err
	}
	steps, err := s.Results.PassedSteps(ctx, user)
	if err != nil {
		return nil, err
	}
	return s.progress(ctx, user, p, steps)
}

// AllProgress returns user's progress in every program, in id order.
func (s *Service) AllProgress(ctx context.Context, user string) ([]*Progress, error) {
	steps, err := s.Results.PassedSteps(ctx, user)
	if err != nil {
		return nil, err
	}
	var out []*Progress
	for _, p := range s.Programs.All() {
		pr, err := s.progress(ctx, user, p, steps)
		if err != nil {
			return nil, err
		}
		out = append(out, pr)
	}
	return out, nil
}

func (s *Service) progress(ctx context.Context, user string, p *Program, steps []SessionSteps) (*Progress, error) {
	pr := &Progress{Program: p}
	now := s.now()
	for _, id := range p.Labs {
		lp := LabProgress{}
		d, ok := s.Labs.Lab(id)
		if !ok {
			return nil, fmt.Errorf("program %s: lab %s is not loaded", p.ID, id)
		}
		lp.Lab = d
		for _, ss := range steps {
			if ss.Lab == id && passedAll(d, ss.Steps) {
				lp.Passed, lp.Session = true, ss.Session
				break
			}
		}
		if !lp.Passed {
			pr.Missing = append(pr.Missing, Missing{Kind: MissingLab, ID: id, Title: d.Title})
		}
		pr.Labs = append(pr.Labs, lp)
	}
	for _, r := range p.Requires {
		rp, _ := s.Programs.Program(r)
		h, err := s.standing(ctx, user, r)
		if err != nil {
			return nil, fmt.Errorf("certificates of %s: %w", user, err)
		}
		held := h != nil && h.Status == HeldValid
		pr.Requires = append(pr.Requires, RequiredProgram{Program: rp, Held: held})
		if !held {
			pr.Missing = append(pr.Missing, Missing{Kind: MissingCertificate, ID: r, Title: rp.Title})
		}
	}
	atts, err := s.Store.Attempts(ctx, user, p.ID)
	if err != nil {
		return nil, err
	}
	e := &pr.Exam
	e.AttemptsUsed = len(atts)
	var last *Attempt
	for _, a := range atts {
		if a.Overdue(now) {
			a.expire() // as the next Start will record it
		}
		switch {
		case a.State == Open:
			e.Open, e.OpenDeadline = a.ID, a.Deadline
		case a.Passed && (!e.Passed || a.Score > e.BestScore):
			e.Passed, e.Attempt = true, a.ID
		}
		e.BestScore = max(e.BestScore, a.Score)
		last = a
	}
	e.AttemptsLeft = max(p.Exam.MaxAttempts-len(atts), 0)
	if !e.Passed {
		pr.Missing = append(pr.Missing, Missing{Kind: MissingExam, ID: p.ID, Title: p.Title})
		if cd := p.Exam.Cooldown.D(); cd > 0 && last != nil && last.State != Open && now.Before(last.Finished.Add(cd)) {
			e.NextAttemptAt = last.Finished.Add(cd)
		}
	}
	if pr.Certificate, err = s.standing(ctx, user, p.ID); err != nil {
		return nil, fmt.Errorf("certificates of %s: %w", user, err)
	}
	return pr, nil
}

func (s *Service) standing(ctx context.Context, user, program string) (*Holding, error) {
	if s.Issuer == nil {
		return nil, nil
	}
	return s.Issuer.Standing(ctx, user, program)
}

func passedAll(d *lab.Definition, passed []string) bool {
	for _, st := range d.Steps {
		if !slices.Contains(passed, st.ID) {
			return false
		}
	}
	return len(d.Steps) > 0
}

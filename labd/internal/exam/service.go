package exam

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// Error codes of this package; the API maps each to a status in one place.
// Other refusals use lab's codes (not_found, invalid, conflict, limit_reached).
const (
	EDeadline     = "deadline_passed"      // answers came after the attempt's time ran out
	ENoAttempts   = "no_attempts_left"     // every allowed attempt is used
	EPassed       = "already_passed"       // the exam is passed: claim the certificate
	ERequirements = "requirements_not_met" // a claim before every requirement is met
	EUnavailable  = "unavailable"          // no Issuer is wired: certificates cannot be issued
	// ERevoked refuses a claim while the user's newest certificate of the
	// program is revoked: a revocation holds until an admin reissues.
	ERevoked = "revoked"
)

// Store keeps exam attempts.
type Store interface {
	// Attempts returns user's attempts of exam, oldest first.
	Attempts(ctx context.Context, user, exam string) ([]*Attempt, error)
	// UpdateAttempts runs fn in one transaction with user's attempts of exam
	// (oldest first) and saves (inserts or updates) the attempts fn returns.
	// When fn returns an error nothing is written.
	UpdateAttempts(ctx context.Context, user, exam string, fn func(attempts []*Attempt) (save []*Attempt, err error)) error
}

// SessionSteps are the steps that passed in one lab session.
type SessionSteps struct {
	Session string
	Lab     string
	Steps   []string
}

// LabResults tells which lab steps a user has passed.
type LabResults interface {
	// PassedSteps lists each of user's lab sessions with the steps whose
	// latest check passed.
	PassedSteps(ctx context.Context, user string) ([]SessionSteps, error)
}

// RoleGranter gives a user a role; called after a program that grants one is
// claimed (grants_role: lecturer).
type RoleGranter interface {
	GrantRole(ctx context.Context, user, role string) error
}

// RoleGranterFunc is a RoleGranter made of a function (run.go wires
// auth.Accounts.Grant with it).
type RoleGranterFunc func(ctx context.Context, user, role string) error

// GrantRole calls f.
func (f RoleGranterFunc) GrantRole(ctx context.Context, user, role string) error {
	return f(ctx, user, role)
}

// Service runs exams and programs.
type Service struct {
	Programs *Programs
	Labs     *lab.Catalog
	Store    Store
	Results  LabResults
	Issuer   Issuer      // nil: nobody holds a certificate and claims are refused (503)
	Roles    RoleGranter // optional: nil leaves role granting to someone else
	Now      func() time.Time
	Rand     Rand // crypto/rand when nil
	Log      *slog.Logger

	claims sync.Mutex // one claim at a time: no certificate is issued twice
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) program(id string) (*Program, error) {
	p, ok := s.Programs.Program(id)
	if !ok {
		return nil, lab.Errorf(lab.ENotFound, "no certification program or exam %q", id)
	}
	return p, nil
}

// Paper is an attempt as the trainee sees it: the questions and their
// options under per-attempt keys, the deadline, never the answer key.
type Paper struct {
	ID           string          `json:"id"`
	Exam         string          `json:"exam"`
	State        State           `json:"state"`
	Started      time.Time       `json:"started_at"`
	Deadline     time.Time       `json:"deadline"`
	ServerTime   time.Time       `json:"server_time"` // for a countdown that ignores the client's clock
	TimeLimit    string          `json:"time_limit"`
	PassMark     int             `json:"pass_mark"`
	MaxAttempts  int             `json:"max_attempts"`
	AttemptsLeft int             `json:"attempts_left"` // after this one
	Questions    []PaperQuestion `json:"questions"`
}

// PaperQuestion is one question of a Paper.
type PaperQuestion struct {
	ID      string        `json:"id"`
	Kind    string        `json:"kind"` // single | multiple
	Topic   string        `json:"topic"`
	Text    lab.Text      `json:"text"`
	Options []PaperOption `json:"options"`
}

// PaperOption is one option, keyed a, b, c in the order shown.
type PaperOption struct {
	ID   string   `json:"id"`
	Text lab.Text `json:"text"`
}

// Start returns user's open attempt of exam, or starts a new one: questions
// drawn at random, options shuffled. An open attempt past its deadline is
// closed as expired first. It refuses when the exam is already passed, when
// every attempt is used, or during the cool-down after a failed one.
func (s *Service) Start(ctx context.Context, user, exam string) (*Paper, error) {
	p, err := s.program(exam)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var got *Attempt
	var left int
	err = s.Store.UpdateAttempts(ctx, user, exam, func(atts []*Attempt) ([]*Attempt, error) {
		var save []*Attempt
		for _, a := range atts {
			if a.Overdue(now) {
				a.expire()
				save = append(save, a)
			} else if a.State == Open {
				got = a
			}
		}
		left = p.Exam.MaxAttempts - len(atts)
		if got != nil {
			return save, nil
		}
		if err := canStart(p, atts, now); err != nil {
			return nil, err
		}
		r := s.Rand
		if r == nil {
			r = CryptoRand
		}
		got = &Attempt{
			ID: newID(), Exam: exam, User: user, State: Open, Started: now,
			Deadline:  now.Add(p.Exam.TimeLimit.D()),
			Questions: Draw(p.Bank, p.Exam.Draw, r),
		}
		left--
		return append(save, got), nil
	})
	if err != nil {
		return nil, err
	}
	return s.paper(p, got, left, now), nil
}

// canStart says why a new attempt may not start, or nil.
func canStart(p *Program, atts []*Attempt, now time.Time) error {
	var last *Attempt
	for _, a := range atts {
		if a.Passed {
			return &lab.Error{Code: EPassed, Message: fmt.Sprintf(
				"you passed this exam on %s with %d%%; claim the certificate", a.Finished.UTC().Format(time.DateOnly), a.Score)}
		}
		last = a
	}
	if len(atts) >= p.Exam.MaxAttempts {
		return &lab.Error{Code: ENoAttempts, Message: fmt.Sprintf(
			"you have used all %d attempts of this exam; the last ended %s UTC",
			p.Exam.MaxAttempts, last.Finished.UTC().Format("2006-01-02 15:04"))}
	}
	if cd := p.Exam.Cooldown.D(); last != nil && cd > 0 {
		if next := last.Finished.Add(cd); now.Before(next) {
			return &lab.Error{Code: lab.ELimit, RetryAfter: next.Sub(now), Message: fmt.Sprintf(
				"the next attempt can start at %s UTC (%s after the last one ended)", next.UTC().Format("2006-01-02 15:04"), cd)}
		}
	}
	return nil
}

func (s *Service) paper(p *Program, a *Attempt, left int, now time.Time) *Paper {
	pp := &Paper{
		ID: a.ID, Exam: a.Exam, State: a.State, Started: a.Started, Deadline: a.Deadline, ServerTime: now,
		TimeLimit: p.Exam.TimeLimit.String(), PassMark: p.Exam.PassMark, MaxAttempts: p.Exam.MaxAttempts,
		AttemptsLeft: max(left, 0), Questions: make([]PaperQuestion, 0, len(a.Questions)),
	}
	for _, d := range a.Questions {
		q, ok := p.Bank.Question(d.Question)
		if !ok {
			continue // the bank changed under an open attempt; grading counts it wrong
		}
		pq := PaperQuestion{ID: q.ID, Kind: q.Kind, Topic: q.Topic, Text: q.Text, Options: make([]PaperOption, 0, len(d.Options))}
		for i, oid := range d.Options {
			if j := slices.IndexFunc(q.Options, func(o Option) bool { return o.ID == oid }); j >= 0 {
				pq.Options = append(pq.Options, PaperOption{ID: OptionKey(i), Text: q.Options[j].Text})
			}
		}
		pp.Questions = append(pp.Questions, pq)
	}
	return pp
}

// Graded is the result of a submitted attempt: which questions were right,
// never which options are.
type Graded struct {
	ID            string    `json:"id"`
	Exam          string    `json:"exam"`
	State         State     `json:"state"`
	Score         int       `json:"score"` // percent
	PassMark      int       `json:"pass_mark"`
	Passed        bool      `json:"passed"`
	Correct       int       `json:"correct"`
	Total         int       `json:"total"`
	Results       []Result  `json:"results"`
	AttemptsLeft  int       `json:"attempts_left"`            // of max_attempts, also after a pass
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"` // after a cool-down
}

// Submit grades user's answers to their open attempt, in one transaction. An
// attempt that is not the user's is not found; answers after the deadline
// (and Grace) are refused and the attempt is closed as expired.
func (s *Service) Submit(ctx context.Context, user, exam, attempt string, ans Answers) (*Graded, error) {
	p, err := s.program(exam)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var got *Attempt
	var used int
	late := false
	err = s.Store.UpdateAttempts(ctx, user, exam, func(atts []*Attempt) ([]*Attempt, error) {
		used = len(atts)
		i := slices.IndexFunc(atts, func(a *Attempt) bool { return a.ID == attempt })
		if i < 0 {
			return nil, lab.Errorf(lab.ENotFound, "no attempt %q of exam %s", attempt, exam)
		}
		a := atts[i]
		got = a
		switch {
		case a.State != Open:
			return nil, lab.Errorf(lab.EConflict, "this attempt is already %s", a.State)
		case a.Overdue(now):
			a.expire()
			late = true
			return []*Attempt{a}, nil
		}
		chosen, err := a.resolve(p.Bank, ans)
		if err != nil {
			return nil, err
		}
		a.grade(p.Bank, chosen, p.Exam.PassMark, now)
		return []*Attempt{a}, nil
	})
	if err != nil {
		return nil, err
	}
	if late {
		return nil, &lab.Error{Code: EDeadline, Message: fmt.Sprintf(
			"the time for this attempt ran out at %s UTC; it is closed as expired and the answers were not graded",
			got.Deadline.UTC().Format("15:04:05"))}
	}
	return s.graded(p, got, used), nil
}

func (s *Service) graded(p *Program, a *Attempt, used int) *Graded {
	g := &Graded{
		ID: a.ID, Exam: a.Exam, State: a.State, Score: a.Score, PassMark: p.Exam.PassMark, Passed: a.Passed,
		Total: len(a.Results), Results: a.Results, AttemptsLeft: max(p.Exam.MaxAttempts-used, 0),
	}
	for _, r := range a.Results {
		if r.Correct {
			g.Correct++
		}
	}
	// After a pass, attempts_left still says what remains of max_attempts;
	// passed says none is needed (Start answers already_passed).
	if !a.Passed {
		if cd := p.Exam.Cooldown.D(); cd > 0 && g.AttemptsLeft > 0 {
			g.NextAttemptAt = a.Finished.Add(cd)
		}
	}
	return g
}

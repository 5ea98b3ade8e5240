package exam

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
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

// IssueRequest is what a certificate needs to say about its holder.
type IssueRequest struct {
	User        string
	Program     string
	Title       lab.Text
	Description lab.Text
	Criteria    lab.Text // how it was earned, in words (the credential's criteria)
	Issued      time.Time
	ValidUntil  time.Time
	ExamScore   int // percent
	PassMark    int
	ExamAttempt string        // evidence: the passed attempt
	Labs        []LabEvidence // evidence: the session that passed each lab
	GrantsRole  string        // the role the certificate grants, or ""
}

// LabEvidence is the session in which a lab was passed.
type LabEvidence struct {
	Lab     string
	Session string
}

// Issuer issues certificates and knows who holds which (internal/certificate).
type Issuer interface {
	// Issue issues user's certificate of a program and returns its
	// verification code (the page is /v/<code>).
	Issue(ctx context.Context, req IssueRequest) (code string, err error)
	// Held returns the code of user's currently valid certificate of
	// program, "" when they hold none.
	Held(ctx context.Context, user, program string) (code string, err error)
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
	AttemptsLeft  int       `json:"attempts_left"`
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
	if a.Passed {
		g.AttemptsLeft = 0
	} else if cd := p.Exam.Cooldown.D(); cd > 0 && g.AttemptsLeft > 0 {
		g.NextAttemptAt = a.Finished.Add(cd)
	}
	return g
}

// Progress is a user's way through a program.
type Progress struct {
	Program  *Program
	Labs     []LabProgress
	Requires []RequiredProgram
	Exam     ExamProgress
	// Certificate is the code of the user's valid certificate, "" if none.
	Certificate string
	// Missing lists, in words, what is left before the certificate can be claimed.
	Missing []string
}

// Complete reports whether the certificate can be claimed.
func (p *Progress) Complete() bool { return len(p.Missing) == 0 }

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
			pr.Missing = append(pr.Missing, "pass the lab "+id)
		}
		pr.Labs = append(pr.Labs, lp)
	}
	for _, r := range p.Requires {
		rp, _ := s.Programs.Program(r)
		code, err := s.held(ctx, user, r)
		if err != nil {
			return nil, fmt.Errorf("certificates of %s: %w", user, err)
		}
		pr.Requires = append(pr.Requires, RequiredProgram{Program: rp, Held: code != ""})
		if code == "" {
			pr.Missing = append(pr.Missing, "hold the certificate "+r)
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
	if e.Passed {
		e.AttemptsLeft = 0
	} else {
		pr.Missing = append(pr.Missing, "pass the exam")
		if cd := p.Exam.Cooldown.D(); cd > 0 && last != nil && last.State != Open && now.Before(last.Finished.Add(cd)) {
			e.NextAttemptAt = last.Finished.Add(cd)
		}
	}
	code, err := s.held(ctx, user, p.ID)
	if err != nil {
		return nil, fmt.Errorf("certificates of %s: %w", user, err)
	}
	pr.Certificate = code
	return pr, nil
}

func (s *Service) held(ctx context.Context, user, program string) (string, error) {
	if s.Issuer == nil {
		return "", nil
	}
	return s.Issuer.Held(ctx, user, program)
}

func passedAll(d *lab.Definition, passed []string) bool {
	for _, st := range d.Steps {
		if !slices.Contains(passed, st.ID) {
			return false
		}
	}
	return len(d.Steps) > 0
}

// Claim is an issued (or already held) certificate.
type Claim struct {
	Program    string
	Code       string
	New        bool   // false when the user already held it
	GrantsRole string // the role the program grants
	// RoleGranted says the role was granted now. A failed grant does not undo
	// the certificate: it is logged, and an admin can grant the role.
	RoleGranted bool
}

// Claim issues user's certificate of program when every requirement is met:
// the labs passed, the exam passed, the required programs held. Otherwise
// it says what is missing. Claiming a certificate already held returns it.
func (s *Service) Claim(ctx context.Context, user, program string) (*Claim, error) {
	s.claims.Lock()
	defer s.claims.Unlock()
	pr, err := s.Progress(ctx, user, program)
	if err != nil {
		return nil, err
	}
	p := pr.Program
	c := &Claim{Program: p.ID, Code: pr.Certificate, GrantsRole: p.GrantsRole}
	if c.Code != "" {
		return c, nil
	}
	if !pr.Complete() {
		return nil, &lab.Error{Code: ERequirements, Message: "not yet: " + strings.Join(pr.Missing, "; ")}
	}
	if s.Issuer == nil {
		return nil, &lab.Error{Code: EUnavailable, Message: "certificates cannot be issued yet on this server; your results are kept"}
	}
	now := s.now()
	req := IssueRequest{
		User: user, Program: p.ID, Title: p.Title, Description: p.Description, Criteria: criteria(p),
		Issued: now, ValidUntil: p.Validity.Until(now), PassMark: p.Exam.PassMark,
		ExamScore: pr.Exam.BestScore, ExamAttempt: pr.Exam.Attempt, GrantsRole: p.GrantsRole,
	}
	for _, l := range pr.Labs {
		req.Labs = append(req.Labs, LabEvidence{Lab: l.Lab.ID, Session: l.Session})
	}
	code, err := s.Issuer.Issue(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("issue the certificate of %s: %w", p.ID, err)
	}
	c.Code, c.New = code, true
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if p.GrantsRole != "" && s.Roles != nil {
		if err := s.Roles.GrantRole(ctx, user, p.GrantsRole); err != nil {
			log.Error("certificate issued but its role not granted", "program", p.ID, "user", user, "role", p.GrantsRole, "err", err)
		} else {
			c.RoleGranted = true
		}
	}
	log.Info("certificate claimed", "program", p.ID, "user", user)
	return c, nil
}

// criteria says how a program's certificate is earned, in both languages.
func criteria(p *Program) lab.Text {
	var zh, en []string
	if len(p.Labs) > 0 {
		zh = append(zh, "完成实验 "+strings.Join(p.Labs, "、")+"（每个实验的全部步骤在同一次会话中检查通过）")
		en = append(en, "passed the labs "+strings.Join(p.Labs, ", ")+" (every step checked in one session)")
	}
	if len(p.Requires) > 0 {
		zh = append(zh, "持有证书 "+strings.Join(p.Requires, "、"))
		en = append(en, "held the certificates "+strings.Join(p.Requires, ", "))
	}
	zh = append(zh, fmt.Sprintf("通过 %d 道题的考试（及格线 %d%%）", p.Exam.Draw, p.Exam.PassMark))
	en = append(en, fmt.Sprintf("passed a %d-question exam (pass mark %d%%)", p.Exam.Draw, p.Exam.PassMark))
	return lab.Text{ZH: strings.Join(zh, "；") + "。", EN: "The holder " + strings.Join(en, "; ") + "."}
}

// Package examtest has what tests of exams need: a hand-written Issuer in
// memory (the real one is internal/certificate), a role granter, and a
// program with its bank.
package examtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/xsky-academy/academy/labd/internal/exam"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// Issuer issues certificates in memory: codes CERT-1, CERT-2... Like the
// real one, it refuses to issue while a user's certificate is revoked.
type Issuer struct {
	mu       sync.Mutex
	held     map[string]*exam.Holding // user/program -> the newest certificate
	Requests []exam.IssueRequest
	Fail     error // when set, Issue fails with it
}

// NewIssuer returns an issuer that has issued nothing.
func NewIssuer() *Issuer { return &Issuer{held: map[string]*exam.Holding{}} }

// Issue records req and returns a new code.
func (f *Issuer) Issue(ctx context.Context, req exam.IssueRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Fail != nil {
		return "", f.Fail
	}
	if h := f.held[req.User+"/"+req.Program]; h != nil && h.Status == exam.HeldRevoked {
		return "", lab.Errorf(exam.ERevoked, "certificate %s is revoked", h.Code)
	}
	f.Requests = append(f.Requests, req)
	code := fmt.Sprintf("CERT-%d", len(f.Requests))
	f.held[req.User+"/"+req.Program] = &exam.Holding{Code: code, Status: exam.HeldValid, Expires: req.ValidUntil}
	return code, nil
}

// Standing returns the newest certificate issued to user for program, nil if none.
func (f *Issuer) Standing(ctx context.Context, user, program string) (*exam.Holding, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if h := f.held[user+"/"+program]; h != nil {
		c := *h
		return &c, nil
	}
	return nil, nil
}

// Give makes user hold program's certificate, as if issued earlier.
func (f *Issuer) Give(user, program, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held[user+"/"+program] = &exam.Holding{Code: code, Status: exam.HeldValid}
}

// Set makes h user's newest certificate of program (revoked, expired...).
func (f *Issuer) Set(user, program string, h exam.Holding) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held[user+"/"+program] = &h
}

// Roles records granted roles.
type Roles struct {
	mu      sync.Mutex
	Granted []string // "user:role"
}

// GrantRole records the grant.
func (r *Roles) GrantRole(ctx context.Context, user, role string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Granted = append(r.Granted, user+":"+role)
	return nil
}

// Clock is a settable clock for deadlines and cool-downs.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Bank is a bank of n single-choice questions q1..qn, options bank-a to
// bank-d, the right one bank-c, and one multiple-choice question m1
// (bank-a and bank-b right). Bank option ids start "bank-" so a test can
// see that none ever reaches a trainee; texts do not contain them.
func Bank(n int) *exam.Bank {
	b := &exam.Bank{File: "certs/demo.bank.yaml"}
	opt := func(id string) exam.Option {
		n := strings.TrimPrefix(id, "bank-")
		return exam.Option{ID: id, Text: lab.Text{ZH: "选项 " + n, EN: "option " + n}}
	}
	for i := 1; i <= n; i++ {
		b.Questions = append(b.Questions, exam.Question{
			ID: fmt.Sprintf("q%d", i), Kind: exam.Single, Topic: "mon",
			Text:    lab.Text{ZH: fmt.Sprintf("问题 %d", i), EN: fmt.Sprintf("question %d", i)},
			Options: []exam.Option{opt("bank-a"), opt("bank-b"), opt("bank-c"), opt("bank-d")}, Answer: []string{"bank-c"},
		})
	}
	b.Questions = append(b.Questions, exam.Question{
		ID: "m1", Kind: exam.Multiple, Topic: "osd", Text: lab.Text{ZH: "多选", EN: "multiple"},
		Options: []exam.Option{opt("bank-a"), opt("bank-b"), opt("bank-c")}, Answer: []string{"bank-a", "bank-b"},
	})
	return b
}

// Program is a program "demo" on the labs given, drawing draw questions of
// Bank(bankSize) with a pass mark of 60%, 30 minutes, maxAttempts attempts
// and cooldown between them.
func Program(id string, labs []string, bankSize, draw, maxAttempts int, cooldown time.Duration) *exam.Program {
	return &exam.Program{
		ID: id, Title: lab.Text{ZH: "演示", EN: "Demo " + id}, Description: lab.Text{ZH: "测试", EN: "Test"},
		Labs: labs,
		Exam: exam.Spec{Bank: id + ".bank.yaml", Draw: draw, PassMark: 60, TimeLimit: lab.Duration(30 * time.Minute),
			MaxAttempts: maxAttempts, Cooldown: lab.Duration(cooldown)},
		Validity: exam.Validity{Years: 2},
		Bank:     Bank(bankSize),
	}
}

// Key returns the answers that get every question of p right (or, with
// right false, every one wrong), in the keys the paper shows: the test
// reads the bank, as only the server can.
func Key(p *exam.Paper, b *exam.Bank, right bool) exam.Answers {
	ans := exam.Answers{}
	for _, q := range p.Questions {
		bq, _ := b.Question(q.ID)
		for _, o := range q.Options {
			isRight := false
			for _, bo := range bq.Options {
				if bo.Text == o.Text {
					for _, a := range bq.Answer {
						isRight = isRight || a == bo.ID
					}
				}
			}
			if isRight == right {
				ans[q.ID] = append(ans[q.ID], o.ID)
				if !right && q.Kind == exam.Single {
					break
				}
			}
		}
	}
	return ans
}

package exam_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/exam"
	"github.com/xsky-academy/academy/labd/internal/exam/examtest"
	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/lab/labtest"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

type fixture struct {
	svc    *exam.Service
	db     *sqlite.DB
	clock  *examtest.Clock
	issuer *examtest.Issuer
	roles  *examtest.Roles
}

// newFixture is a service on a real SQLite file: program "demo" (lab demo,
// 5 of 8 questions, 2 attempts, 1 h cool-down) and "teach" (requires demo,
// grants lecturer, 1 attempt).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	demo := examtest.Program("demo", []string{"demo"}, 8, 5, 2, time.Hour)
	teach := examtest.Program("teach", nil, 3, 3, 1, 0)
	teach.Requires, teach.GrantsRole = []string{"demo"}, "lecturer"
	f := &fixture{db: db, clock: examtest.NewClock(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)),
		issuer: examtest.NewIssuer(), roles: &examtest.Roles{}}
	f.svc = &exam.Service{
		Programs: exam.NewPrograms(demo, teach), Labs: lab.NewCatalog(labtest.Lab("demo")),
		Store: db, Results: db, Issuer: f.issuer, Roles: f.roles, Now: f.clock.Now,
	}
	return f
}

func (f *fixture) bank(id string) *exam.Bank {
	p, _ := f.svc.Programs.Program(id)
	return p.Bank
}

// code is the domain code of err: a *lab.Error's or a *exam.ClaimError's.
func code(err error) string {
	var c interface{ ErrorCode() string }
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	return lab.EInternal
}

func TestStartResumes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p1, err := f.svc.Start(ctx, "alice", "demo")
	if err != nil {
		t.Fatal(err)
	}
	if p1.State != exam.Open || len(p1.Questions) != 5 || p1.AttemptsLeft != 1 || p1.MaxAttempts != 2 ||
		!p1.Deadline.Equal(f.clock.Now().Add(30*time.Minute)) || p1.TimeLimit != "30m0s" {
		t.Fatalf("paper = %+v", p1)
	}
	for _, q := range p1.Questions {
		for i, o := range q.Options {
			if o.ID != exam.OptionKey(i) {
				t.Errorf("%s: option %d keyed %q", q.ID, i, o.ID)
			}
		}
	}
	f.clock.Advance(10 * time.Minute)
	p2, err := f.svc.Start(ctx, "alice", "demo")
	if err != nil {
		t.Fatal(err)
	}
	if p2.ID != p1.ID || !p2.Deadline.Equal(p1.Deadline) || p2.AttemptsLeft != 1 {
		t.Errorf("resume: %s %s, want %s %s", p2.ID, p2.Deadline, p1.ID, p1.Deadline)
	}
	for i := range p1.Questions {
		if p1.Questions[i].ID != p2.Questions[i].ID || p1.Questions[i].Options[0].Text != p2.Questions[i].Options[0].Text {
			t.Errorf("resumed question %d differs", i)
		}
	}
	// Another user gets their own attempt.
	pb, err := f.svc.Start(ctx, "bob", "demo")
	if err != nil || pb.ID == p1.ID {
		t.Errorf("bob: %v %v", pb, err)
	}
	if _, err := f.svc.Start(ctx, "alice", "nope"); code(err) != lab.ENotFound {
		t.Errorf("unknown exam: %v", err)
	}
}

func TestSubmitGrades(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p, _ := f.svc.Start(ctx, "alice", "demo")
	// Another user's attempt does not exist for them.
	if _, err := f.svc.Submit(ctx, "bob", "demo", p.ID, exam.Answers{}); code(err) != lab.ENotFound {
		t.Errorf("bob submits alice's attempt: %v", err)
	}
	// Bad answers are refused and nothing is written: the attempt stays open.
	if _, err := f.svc.Submit(ctx, "alice", "demo", p.ID, exam.Answers{"not-drawn": {"a"}}); code(err) != lab.EInvalid {
		t.Errorf("answer to a question not drawn: %v", err)
	}
	key := examtest.Key(p, f.bank("demo"), true)
	// Two right of five is 40%: failed.
	n := 0
	for q := range key {
		if n >= 2 {
			key[q] = examtest.Key(p, f.bank("demo"), false)[q]
		}
		n++
	}
	g, err := f.svc.Submit(ctx, "alice", "demo", p.ID, key)
	if err != nil {
		t.Fatal(err)
	}
	if g.Correct != 2 || g.Total != 5 || g.Score != 40 || g.Passed || g.State != exam.Submitted || len(g.Results) != 5 {
		t.Errorf("graded = %+v", g)
	}
	if g.AttemptsLeft != 1 || !g.NextAttemptAt.Equal(f.clock.Now().Add(time.Hour)) {
		t.Errorf("attempts left %d, next at %s", g.AttemptsLeft, g.NextAttemptAt)
	}
	// Submitting twice is a conflict.
	if _, err := f.svc.Submit(ctx, "alice", "demo", p.ID, key); code(err) != lab.EConflict {
		t.Errorf("second submit: %v", err)
	}
}

func TestDeadline(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p, _ := f.svc.Start(ctx, "alice", "demo")
	// Within the grace after the deadline, answers count.
	f.clock.Advance(30*time.Minute + exam.Grace)
	if _, err := f.svc.Submit(ctx, "alice", "demo", p.ID, examtest.Key(p, f.bank("demo"), true)); err != nil {
		t.Fatalf("submit within the grace: %v", err)
	}

	p, _ = f.svc.Start(ctx, "bob", "demo")
	f.clock.Advance(30*time.Minute + exam.Grace + time.Second)
	_, err := f.svc.Submit(ctx, "bob", "demo", p.ID, examtest.Key(p, f.bank("demo"), true))
	if code(err) != exam.EDeadline || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("late submit: %v", err)
	}
	atts, _ := f.db.Attempts(ctx, "bob", "demo")
	if len(atts) != 1 || atts[0].State != exam.Expired || atts[0].Passed || !atts[0].Finished.Equal(p.Deadline) {
		t.Fatalf("after a late submit: %+v", atts[0])
	}
	if _, err := f.svc.Submit(ctx, "bob", "demo", p.ID, exam.Answers{}); code(err) != lab.EConflict {
		t.Errorf("submit to an expired attempt: %v", err)
	}
}

func TestAttemptLimits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	fail := func() {
		t.Helper()
		p, err := f.svc.Start(ctx, "alice", "demo")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Submit(ctx, "alice", "demo", p.ID, examtest.Key(p, f.bank("demo"), false)); err != nil {
			t.Fatal(err)
		}
	}
	fail()
	// The cool-down: refused with when.
	f.clock.Advance(59 * time.Minute)
	_, err := f.svc.Start(ctx, "alice", "demo")
	var le *lab.Error
	if !errors.As(err, &le) || le.Code != lab.ELimit || le.RetryAfter != time.Minute || !strings.Contains(le.Message, "10:00 UTC") {
		t.Fatalf("during the cool-down: %#v", err)
	}
	f.clock.Advance(time.Minute)
	fail()
	f.clock.Advance(24 * time.Hour)
	_, err = f.svc.Start(ctx, "alice", "demo")
	if code(err) != exam.ENoAttempts || !strings.Contains(err.Error(), "all 2 attempts") {
		t.Fatalf("after every attempt: %v", err)
	}
	pr, _ := f.svc.Progress(ctx, "alice", "demo")
	if pr.Exam.AttemptsUsed != 2 || pr.Exam.AttemptsLeft != 0 || pr.Exam.Passed {
		t.Errorf("progress: %+v", pr.Exam)
	}
}

// TestExpiredAttemptCounts: an attempt left open past its deadline is closed
// as expired when the user comes back, and counts as a failed attempt.
func TestExpiredAttemptCounts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p, _ := f.svc.Start(ctx, "alice", "demo")
	f.clock.Advance(2 * time.Hour)
	pr, _ := f.svc.Progress(ctx, "alice", "demo")
	if pr.Exam.Open != "" || pr.Exam.AttemptsUsed != 1 {
		t.Errorf("progress after the deadline: %+v", pr.Exam)
	}
	p2, err := f.svc.Start(ctx, "alice", "demo")
	if err != nil || p2.ID == p.ID || p2.AttemptsLeft != 0 {
		t.Fatalf("start after an expired attempt: %+v %v", p2, err)
	}
	atts, _ := f.db.Attempts(ctx, "alice", "demo")
	if len(atts) != 2 || atts[0].State != exam.Expired || atts[1].State != exam.Open {
		t.Errorf("attempts: %s %s", atts[0].State, atts[1].State)
	}
}

func passLab(t *testing.T, db *sqlite.DB, user, session string, steps ...string) {
	t.Helper()
	ctx := context.Background()
	if err := db.SaveSession(ctx, &lab.Session{ID: session, Lab: "demo", Owner: user, State: lab.Ended, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if err := db.SaveStepResult(ctx, session, lab.StepResult{Step: s, Passed: true, Checked: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestClaim(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.Claim(ctx, "alice", "demo")
	if code(err) != exam.ERequirements || !strings.Contains(err.Error(), `pass the lab "Test" (demo); pass the exam`) {
		t.Fatalf("claim with nothing done: %v", err)
	}
	var ce *exam.ClaimError
	if !errors.As(err, &ce) || len(ce.Missing) != 2 ||
		ce.Missing[0] != (exam.Missing{Kind: exam.MissingLab, ID: "demo", Title: lab.Text{ZH: "测试", EN: "Test"}}) ||
		ce.Missing[1] != (exam.Missing{Kind: exam.MissingExam, ID: "demo", Title: lab.Text{ZH: "演示", EN: "Demo demo"}}) {
		t.Fatalf("missing, as data: %+v", ce)
	}
	// Steps passed across two sessions do not pass the lab; all in one does.
	passLab(t, f.db, "alice", "s1", "one")
	passLab(t, f.db, "alice", "s2", "two")
	passLab(t, f.db, "bob", "s3", "one", "two")
	pr, _ := f.svc.Progress(ctx, "alice", "demo")
	if pr.Labs[0].Passed {
		t.Error("a lab passed in pieces counts")
	}
	passLab(t, f.db, "alice", "s4", "one", "two")
	p, _ := f.svc.Start(ctx, "alice", "demo")
	if _, err := f.svc.Submit(ctx, "alice", "demo", p.ID, examtest.Key(p, f.bank("demo"), true)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Start(ctx, "alice", "demo"); code(err) != exam.EPassed {
		t.Errorf("start after passing: %v", err)
	}
	pr, _ = f.svc.Progress(ctx, "alice", "demo")
	if !pr.Complete() || !pr.Labs[0].Passed || pr.Labs[0].Session != "s4" || !pr.Exam.Passed || pr.Exam.BestScore != 100 {
		t.Fatalf("progress: %+v", pr)
	}
	c, err := f.svc.Claim(ctx, "alice", "demo")
	if err != nil || c.Code != "CERT-1" || !c.New {
		t.Fatalf("claim: %+v %v", c, err)
	}
	req := f.issuer.Requests[0]
	// The narrative names labs by their titles, in each language.
	if req.Criteria.EN != "The holder passed the labs “Test” (every step checked in one session); passed a 5-question exam (pass mark 60%)." ||
		!strings.HasPrefix(req.Criteria.ZH, "完成实验「测试」（") || strings.Contains(req.Criteria.ZH+req.Criteria.EN, "demo") {
		t.Errorf("criteria: %+v", req.Criteria)
	}
	if req.User != "alice" || req.Program != "demo" || req.ExamScore != 100 || req.ExamAttempt != p.ID ||
		len(req.Labs) != 1 || req.Labs[0].Session != "s4" || !req.ValidUntil.Equal(f.clock.Now().AddDate(2, 0, 0)) {
		t.Errorf("issue request: %+v", req)
	}
	// Claiming again returns the same certificate.
	c, err = f.svc.Claim(ctx, "alice", "demo")
	if err != nil || c.Code != "CERT-1" || c.New || len(f.issuer.Requests) != 1 {
		t.Errorf("second claim: %+v %v", c, err)
	}

	// teach requires demo's certificate and grants lecturer.
	_, err = f.svc.Claim(ctx, "bob", "teach")
	if code(err) != exam.ERequirements || !strings.Contains(err.Error(), `hold the certificate "Demo demo" (demo)`) {
		t.Fatalf("bob claims teach: %v", err)
	}
	if !errors.As(err, &ce) || ce.Missing[0] != (exam.Missing{Kind: exam.MissingCertificate, ID: "demo", Title: lab.Text{ZH: "演示", EN: "Demo demo"}}) {
		t.Fatalf("missing certificate, as data: %+v", ce.Missing)
	}
	p, _ = f.svc.Start(ctx, "alice", "teach")
	f.svc.Submit(ctx, "alice", "teach", p.ID, examtest.Key(p, f.bank("teach"), true))
	c, err = f.svc.Claim(ctx, "alice", "teach")
	if err != nil || c.GrantsRole != "lecturer" || !c.RoleGranted || len(f.roles.Granted) != 1 || f.roles.Granted[0] != "alice:lecturer" {
		t.Errorf("claim teach: %+v %v, roles %v", c, err, f.roles.Granted)
	}
}

func TestClaimIssuerFails(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	passLab(t, f.db, "alice", "s1", "one", "two")
	p, _ := f.svc.Start(ctx, "alice", "demo")
	f.svc.Submit(ctx, "alice", "demo", p.ID, examtest.Key(p, f.bank("demo"), true))
	f.issuer.Fail = errors.New("disk full")
	if _, err := f.svc.Claim(ctx, "alice", "demo"); err == nil || code(err) != lab.EInternal {
		t.Errorf("claim with a failing issuer: %v", err)
	}
}

// TestConcurrentStarts: requests racing to start the same user's exam all
// get the one attempt (the store's transaction and its unique index).
func TestConcurrentStarts(t *testing.T) {
	f := newFixture(t)
	ids := make(chan string, 8)
	for range 8 {
		go func() {
			p, err := f.svc.Start(context.Background(), "alice", "demo")
			if err != nil {
				t.Error(err)
				ids <- ""
				return
			}
			ids <- p.ID
		}()
	}
	first := <-ids
	for range 7 {
		if id := <-ids; id != first {
			t.Errorf("two attempts started: %s and %s", first, id)
		}
	}
	atts, _ := f.db.Attempts(context.Background(), "alice", "demo")
	if len(atts) != 1 {
		t.Errorf("%d attempts stored", len(atts))
	}
}

// TestWithoutIssuer: before certificates are wired, progress works (nobody
// holds one) and a complete claim is refused as unavailable, results kept.
func TestWithoutIssuer(t *testing.T) {
	f := newFixture(t)
	f.svc.Issuer = nil
	ctx := context.Background()
	passLab(t, f.db, "alice", "s1", "one", "two")
	p, _ := f.svc.Start(ctx, "alice", "demo")
	f.svc.Submit(ctx, "alice", "demo", p.ID, examtest.Key(p, f.bank("demo"), true))
	pr, err := f.svc.Progress(ctx, "alice", "demo")
	if err != nil || !pr.Complete() || pr.Certificate != nil {
		t.Fatalf("progress: %+v %v", pr, err)
	}
	if _, err := f.svc.Claim(ctx, "alice", "demo"); code(err) != exam.EUnavailable {
		t.Errorf("claim: %v", err)
	}
}

// TestRoleGrantFails: the certificate stands when the role cannot be
// granted (a user without an account); the claim says so.
func TestRoleGrantFails(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.issuer.Give("alice", "demo", "OLD-1")
	f.svc.Roles = exam.RoleGranterFunc(func(context.Context, string, string) error { return errors.New("no such account") })
	p, _ := f.svc.Start(ctx, "alice", "teach")
	f.svc.Submit(ctx, "alice", "teach", p.ID, examtest.Key(p, f.bank("teach"), true))
	c, err := f.svc.Claim(ctx, "alice", "teach")
	if err != nil || c.Code == "" || !c.New || c.RoleGranted {
		t.Errorf("claim: %+v %v", c, err)
	}
}

// BenchmarkAttempt measures one exam sitting on SQLite: start (draw and
// store 20 of 53 questions) and submit (grade, store) for a new user each.
func BenchmarkAttempt(b *testing.B) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "labd.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	p := examtest.Program("demo", nil, 52, 20, 3, 0)
	svc := &exam.Service{Programs: exam.NewPrograms(p), Labs: lab.NewCatalog(), Store: db, Results: db}
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		user := "u" + strconv.Itoa(i)
		paper, err := svc.Start(ctx, user, "demo")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.Submit(ctx, user, "demo", paper.ID, examtest.Key(paper, p.Bank, true)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestClaimRevokedHolds: while a user's newest certificate of a program is
// revoked, the program shows it with its reason, is not complete, and a
// claim is refused as revoked without asking the issuer; a revocation
// racing the claim is refused the same way. An expired certificate is
// claimed anew.
func TestClaimRevokedHolds(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	passLab(t, f.db, "alice", "s1", "one", "two")
	p, _ := f.svc.Start(ctx, "alice", "demo")
	f.svc.Submit(ctx, "alice", "demo", p.ID, examtest.Key(p, f.bank("demo"), true))
	revokedAt := f.clock.Now()
	f.issuer.Set("alice", "demo", exam.Holding{Code: "OLD-1", Status: exam.HeldRevoked, Reason: "exam taken by someone else", RevokedAt: revokedAt})

	pr, err := f.svc.Progress(ctx, "alice", "demo")
	if err != nil || pr.Complete() || !pr.Revoked() || pr.Certificate.Reason != "exam taken by someone else" || len(pr.Missing) != 0 {
		t.Fatalf("progress with a revoked certificate: %+v %v", pr, err)
	}
	_, err = f.svc.Claim(ctx, "alice", "demo")
	var ce *exam.ClaimError
	if code(err) != exam.ERevoked || !errors.As(err, &ce) || ce.Certificate.Code != "OLD-1" ||
		!strings.Contains(err.Error(), "exam taken by someone else") || len(f.issuer.Requests) != 0 {
		t.Fatalf("claim while revoked: %v (%d issued)", err, len(f.issuer.Requests))
	}
	// A certificate that requires demo is not claimable either.
	if pr, _ := f.svc.Progress(ctx, "alice", "teach"); pr.Requires[0].Held || pr.Missing[0].Kind != exam.MissingCertificate {
		t.Errorf("teach with demo revoked: %+v", pr.Requires)
	}

	// Revoked between Progress and Issue: the issuer's refusal is a revoked claim too.
	f.issuer.Set("alice", "demo", exam.Holding{Code: "OLD-2", Status: exam.HeldExpired})
	racing := &revokingIssuer{Issuer: f.issuer, user: "alice", program: "demo"}
	f.svc.Issuer = racing
	if _, err := f.svc.Claim(ctx, "alice", "demo"); code(err) != exam.ERevoked || !strings.Contains(err.Error(), "revoked meanwhile") {
		t.Fatalf("claim racing a revocation: %v", err)
	}

	// After an expiry (and no revocation), a claim issues anew.
	f.svc.Issuer = f.issuer
	f.issuer.Set("alice", "demo", exam.Holding{Code: "OLD-3", Status: exam.HeldExpired})
	if pr, _ := f.svc.Progress(ctx, "alice", "demo"); !pr.Complete() || pr.Held() || pr.Certificate.Code != "OLD-3" {
		t.Errorf("progress with an expired certificate: %+v", pr)
	}
	c, err := f.svc.Claim(ctx, "alice", "demo")
	if err != nil || !c.New || c.Code != "CERT-1" {
		t.Fatalf("claim after expiry: %+v %v", c, err)
	}
}

// revokingIssuer revokes the user's certificate as Issue is called.
type revokingIssuer struct {
	*examtest.Issuer
	user, program string
}

func (r *revokingIssuer) Issue(ctx context.Context, req exam.IssueRequest) (string, error) {
	r.Set(r.user, r.program, exam.Holding{Code: "OLD-2", Status: exam.HeldRevoked, Reason: "revoked meanwhile"})
	return r.Issuer.Issue(ctx, req)
}

// TestAttemptsLeftAfterPassing: passing on the first of two attempts leaves
// one, as the paper, the grade and the progress say; none can be started.
func TestAttemptsLeftAfterPassing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p, _ := f.svc.Start(ctx, "alice", "demo")
	g, err := f.svc.Submit(ctx, "alice", "demo", p.ID, examtest.Key(p, f.bank("demo"), true))
	if err != nil || !g.Passed || g.AttemptsLeft != 1 || !g.NextAttemptAt.IsZero() {
		t.Fatalf("graded: %+v %v", g, err)
	}
	pr, _ := f.svc.Progress(ctx, "alice", "demo")
	if !pr.Exam.Passed || pr.Exam.AttemptsLeft != 1 || pr.Exam.AttemptsUsed != 1 {
		t.Errorf("progress: %+v", pr.Exam)
	}
	if _, err := f.svc.Start(ctx, "alice", "demo"); code(err) != exam.EPassed {
		t.Errorf("start after passing: %v", err)
	}
}

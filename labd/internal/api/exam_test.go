package api

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/exam"
	"github.com/xsky-academy/academy/labd/internal/exam/examtest"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// examServer is a test server whose exam clock the test moves. Every exam
// response it sees is kept, for TestNoAnswerKeyInResponses.
type examServer struct {
	*testServer
	clock     *examtest.Clock
	responses [][]byte
}

func newExamServer(t *testing.T) *examServer {
	ts := newTestServer(t)
	es := &examServer{testServer: ts, clock: examtest.NewClock(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))}
	ts.api.Exams.Now = es.clock.Now
	return es
}

func (es *examServer) call(t *testing.T, method, path, token string, body []byte) response {
	t.Helper()
	r := es.do(t, method, path, token, body)
	es.responses = append(es.responses, r.body)
	return r
}

func (es *examServer) bank() *exam.Bank {
	p, _ := es.api.Exams.Programs.Program("demo")
	return p.Bank
}

func (es *examServer) start(t *testing.T, token string) exam.Paper {
	t.Helper()
	r := es.call(t, "GET", "/api/exams/demo/attempt", token, nil)
	if r.status != 200 {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	var p exam.Paper
	r.json(t, &p)
	return p
}

func answers(t *testing.T, a exam.Answers) []byte {
	b, err := json.Marshal(map[string]exam.Answers{"answers": a})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (es *examServer) passLab(t *testing.T, user string) {
	t.Helper()
	ctx := context.Background()
	if err := es.db.SaveSession(ctx, &lab.Session{ID: "done-" + user, Lab: "demo", Owner: user, State: lab.Ended, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{"one", "two"} {
		if err := es.db.SaveStepResult(ctx, "done-"+user, lab.StepResult{Step: st, Passed: true, Checked: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExamAttemptAPI(t *testing.T) {
	es := newExamServer(t)
	alice, bob := es.token(t, "alice", auth.Trainee), es.token(t, "bob", auth.Trainee)

	p := es.start(t, alice)
	if len(p.Questions) != 5 || p.AttemptsLeft != 4 || p.PassMark != 60 || !p.Deadline.Equal(es.clock.Now().Add(30*time.Minute)) {
		t.Fatalf("paper: %+v", p)
	}
	// Resume: the same attempt, the same questions in the same order.
	es.clock.Advance(5 * time.Minute)
	if again := es.start(t, alice); again.ID != p.ID || again.Questions[0].ID != p.Questions[0].ID ||
		again.Questions[0].Options[0].Text != p.Questions[0].Options[0].Text || !again.ServerTime.Equal(es.clock.Now()) {
		t.Errorf("resume gave %s, want %s", again.ID, p.ID)
	}

	// Another user's attempt is not found, and nothing of it changes.
	r := es.call(t, "POST", "/api/exams/demo/attempt/"+p.ID, bob, answers(t, exam.Answers{}))
	if r.status != 404 || r.errorCode(t) != "not_found" {
		t.Errorf("bob submits alice's attempt: %d %s", r.status, r.body)
	}
	// Bad bodies: 4xx, and the attempt stays open.
	for _, tc := range []struct {
		body   string
		header []string
		status int
	}{
		{`{"answers":{"q1":"a"}}`, nil, 400},
		{`{"answers":{},"score":100}`, nil, 400},
		{`{"answers":{"not-drawn":["a"]}}`, nil, 400},
		{`nonsense`, nil, 400},
		{`{"answers":{}}`, []string{"Content-Type", "text/plain"}, 415},
	} {
		r := es.do(t, "POST", "/api/exams/demo/attempt/"+p.ID, alice, []byte(tc.body), tc.header...)
		if r.status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.body, r.status, r.body, tc.status)
		}
	}
	r = es.call(t, "POST", "/api/exams/demo/attempt/nope", alice, answers(t, exam.Answers{}))
	if r.status != 404 {
		t.Errorf("unknown attempt: %d", r.status)
	}
	// A link on another site cannot start (or burn) an attempt.
	for _, h := range [][]string{{"Sec-Fetch-Mode", "navigate"}, {"Sec-Fetch-Site", "cross-site"}} {
		if r := es.do(t, "GET", "/api/exams/demo/attempt", es.token(t, "carol", auth.Trainee), nil, h...); r.status != 403 {
			t.Errorf("%s: %d %s, want 403", h, r.status, r.body)
		}
	}
	if atts, _ := es.db.Attempts(context.Background(), "carol", "demo"); len(atts) != 0 {
		t.Errorf("a cross-site navigation started %d attempts", len(atts))
	}
	if r := es.call(t, "GET", "/api/exams/nope/attempt", alice, nil); r.status != 404 {
		t.Errorf("unknown exam: %d", r.status)
	}

	r = es.call(t, "POST", "/api/exams/demo/attempt/"+p.ID, alice, answers(t, examtest.Key(&p, es.bank(), true)))
	if r.status != 200 {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	var g exam.Graded
	r.json(t, &g)
	// Passed on attempt 1 of 5: 4 remain (none is needed).
	if !g.Passed || g.Score != 100 || g.Correct != 5 || len(g.Results) != 5 || g.State != exam.Submitted || g.AttemptsLeft != 4 {
		t.Errorf("graded: %+v", g)
	}
	r = es.call(t, "POST", "/api/exams/demo/attempt/"+p.ID, alice, answers(t, exam.Answers{}))
	if r.status != 409 {
		t.Errorf("submit twice: %d %s", r.status, r.body)
	}
	r = es.call(t, "GET", "/api/exams/demo/attempt", alice, nil)
	if r.status != 409 || r.errorCode(t) != exam.EPassed {
		t.Errorf("start after passing: %d %s", r.status, r.body)
	}
}

func TestExamLateSubmitAndLimit(t *testing.T) {
	es := newExamServer(t)
	bob := es.token(t, "bob", auth.Trainee)
	for i := range 5 {
		p := es.start(t, bob)
		es.clock.Advance(31 * time.Minute)
		r := es.call(t, "POST", "/api/exams/demo/attempt/"+p.ID, bob, answers(t, examtest.Key(&p, es.bank(), true)))
		if r.status != 409 || r.errorCode(t) != exam.EDeadline {
			t.Fatalf("late submit %d: %d %s, want 409 deadline_passed", i, r.status, r.body)
		}
	}
	r := es.call(t, "GET", "/api/exams/demo/attempt", bob, nil)
	if r.status != 409 || r.errorCode(t) != exam.ENoAttempts || !strings.Contains(string(r.body), "all 5 attempts") {
		t.Errorf("fourth attempt: %d %s", r.status, r.body)
	}
	var pv programProgressView
	es.call(t, "GET", "/api/programs/demo", bob, nil).json(t, &pv)
	if pv.Exam.AttemptsUsed != 5 || pv.Exam.AttemptsLeft != 0 || pv.Exam.Passed || pv.Complete {
		t.Errorf("program: %+v", pv.Exam)
	}
}

func TestProgramsAndClaim(t *testing.T) {
	es := newExamServer(t)
	alice := es.token(t, "alice", auth.Trainee)

	var list []programProgressView
	r := es.call(t, "GET", "/api/programs", alice, nil)
	r.json(t, &list)
	if len(list) != 1 || list[0].ID != "demo" || len(list[0].Labs) != 1 || list[0].Labs[0].Passed || list[0].Certificate != nil {
		t.Fatalf("programs: %s", r.body)
	}
	r = es.call(t, "POST", "/api/programs/demo/claim", alice, nil)
	var ce claimErrorBody
	r.json(t, &ce)
	if r.status != 409 || ce.Error.Code != exam.ERequirements || ce.Error.Message != `not yet: pass the lab "Test" (demo); pass the exam` ||
		len(ce.Error.Details.Missing) != 2 || ce.Error.Details.Missing[0].Kind != "lab" || ce.Error.Details.Missing[0].Title.ZH != "测试" ||
		ce.Error.Details.Missing[1].Kind != "exam" {
		t.Fatalf("claim with nothing done: %d %s", r.status, r.body)
	}
	var pv0 programProgressView
	es.call(t, "GET", "/api/programs/demo", alice, nil).json(t, &pv0)
	if len(pv0.Missing) != 2 || pv0.Missing[0] != (exam.Missing{Kind: "lab", ID: "demo", Title: lab.Text{ZH: "测试", EN: "Test"}}) {
		t.Errorf("missing in the program: %+v", pv0.Missing)
	}
	if r := es.call(t, "GET", "/api/programs/nope", alice, nil); r.status != 404 {
		t.Errorf("unknown program: %d", r.status)
	}

	es.passLab(t, "alice")
	p := es.start(t, alice)
	es.call(t, "POST", "/api/exams/demo/attempt/"+p.ID, alice, answers(t, examtest.Key(&p, es.bank(), true)))
	var pv programProgressView
	es.call(t, "GET", "/api/programs/demo", alice, nil).json(t, &pv)
	if !pv.Complete || !pv.Labs[0].Passed || !pv.Exam.Passed || len(pv.Missing) != 0 {
		t.Fatalf("program after the work: %+v", pv)
	}

	// Alice's work does not let bob claim.
	bob := es.token(t, "bob", auth.Trainee)
	if r := es.call(t, "POST", "/api/programs/demo/claim", bob, nil); r.status != 409 || r.errorCode(t) != exam.ERequirements {
		t.Errorf("bob claims after alice's work: %d %s", r.status, r.body)
	}
	r = es.call(t, "POST", "/api/programs/demo/claim", alice, nil)
	var c claimView
	r.json(t, &c)
	if r.status != 201 || c.Code != "CERT-1" || c.VerifyURL != "/v/CERT-1" || !c.New {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	if req := es.issuer.Requests[0]; req.User != "alice" || req.ExamScore != 100 || req.Labs[0].Session != "done-alice" {
		t.Errorf("issued: %+v", req)
	}
	r = es.call(t, "POST", "/api/programs/demo/claim", alice, nil)
	r.json(t, &c)
	if r.status != 200 || c.Code != "CERT-1" || c.New || len(es.issuer.Requests) != 1 {
		t.Errorf("claim again: %d %s", r.status, r.body)
	}
	es.call(t, "GET", "/api/programs/demo", alice, nil).json(t, &pv)
	if pv.Certificate == nil || pv.Certificate.VerifyURL != "/v/CERT-1" {
		t.Errorf("certificate in the program: %+v", pv.Certificate)
	}
}

// TestNoAnswerKeyInResponses walks every response of the exam and program
// routes through a whole exam (start, resume, wrong and right answers,
// late answers, claims) and requires that none carries the answer key: no
// bank option id, no field that could hold a key or an explanation, and
// options and results with their known fields only.
func TestNoAnswerKeyInResponses(t *testing.T) {
	es := newExamServer(t)
	alice, bob := es.token(t, "alice", auth.Trainee), es.token(t, "bob", auth.Trainee)
	es.call(t, "GET", "/api/programs", alice, nil)
	p := es.start(t, alice)
	es.start(t, alice)
	es.call(t, "POST", "/api/exams/demo/attempt/"+p.ID, alice, answers(t, examtest.Key(&p, es.bank(), false)))
	p = es.start(t, alice)
	es.call(t, "POST", "/api/exams/demo/attempt/"+p.ID, alice, answers(t, examtest.Key(&p, es.bank(), true)))
	es.call(t, "GET", "/api/programs/demo", alice, nil)
	es.call(t, "POST", "/api/programs/demo/claim", alice, nil)
	pb := es.start(t, bob)
	es.clock.Advance(time.Hour)
	es.call(t, "POST", "/api/exams/demo/attempt/"+pb.ID, bob, answers(t, examtest.Key(&pb, es.bank(), true)))
	es.call(t, "GET", "/api/programs", bob, nil)

	if len(es.responses) < 10 {
		t.Fatalf("%d responses seen", len(es.responses))
	}
	forbidden := []string{"answer", "answers", "key", "solution", "explanation", "right", "correct_options", "is_correct"}
	for _, body := range es.responses {
		if bytes.Contains(body, []byte("bank-")) {
			t.Errorf("a bank option id in a response: %s", body)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("not JSON: %s", body)
		}
		walkJSON(v, "", func(path string, obj map[string]any) {
			for k := range obj {
				for _, f := range forbidden {
					if k == f {
						t.Errorf("%s.%s in %s", path, k, body)
					}
				}
			}
			if strings.HasSuffix(path, ".options[]") && len(obj) != 2 {
				t.Errorf("an option with fields beyond id and text: %v", obj)
			}
			if strings.HasSuffix(path, ".results[]") && len(obj) != 2 {
				t.Errorf("a result with fields beyond question and correct: %v", obj)
			}
		})
	}
}

// walkJSON calls fn for every object in v with its path (arrays as []).
func walkJSON(v any, path string, fn func(path string, obj map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(path, x)
		for k, c := range x {
			walkJSON(c, path+"."+k, fn)
		}
	case []any:
		for _, c := range x {
			walkJSON(c, path+"[]", fn)
		}
	}
}

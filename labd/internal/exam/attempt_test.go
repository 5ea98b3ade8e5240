package exam

import (
	"encoding/json"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

func bankOf(n int) *Bank {
	b := &Bank{}
	for i := range n {
		q := Question{ID: "q" + string(rune('a'+i)), Kind: Single, Answer: []string{"o1"}}
		for j := range 4 {
			q.Options = append(q.Options, Option{ID: "o" + string(rune('1'+j))})
		}
		b.Questions = append(b.Questions, q)
	}
	return b
}

// TestDraw: every draw has distinct questions of the bank and each
// question's options in some order, and over many draws every question and
// every option order shows up: random, yet complete.
func TestDraw(t *testing.T) {
	b := bankOf(10)
	for _, r := range []Rand{CryptoRand, mrand.New(mrand.NewPCG(1, 2))} {
		seen := map[string]int{}
		firstOption := map[string]int{}
		firstQuestion := map[string]int{}
		for range 2000 {
			d := Draw(b, 4, r)
			if len(d) != 4 {
				t.Fatalf("drew %d questions, want 4", len(d))
			}
			ids := map[string]bool{}
			for _, q := range d {
				if ids[q.Question] {
					t.Fatalf("question %s drawn twice: %+v", q.Question, d)
				}
				ids[q.Question] = true
				bq, ok := b.Question(q.Question)
				if !ok {
					t.Fatalf("drew %s, not in the bank", q.Question)
				}
				got := slices.Sorted(slices.Values(q.Options))
				want := []string{"o1", "o2", "o3", "o4"}
				if !slices.Equal(got, want) || len(bq.Options) != 4 {
					t.Fatalf("options of %s: %v", q.Question, q.Options)
				}
				seen[q.Question]++
				firstOption[q.Options[0]]++
			}
			firstQuestion[d[0].Question]++
		}
		// 8000 questions drawn from 10: each about 800 times; 4 options first about 2000 times each.
		for _, q := range b.Questions {
			if seen[q.ID] < 500 || firstQuestion[q.ID] < 100 {
				t.Errorf("question %s drawn %d times, first %d times: not uniform", q.ID, seen[q.ID], firstQuestion[q.ID])
			}
		}
		for _, o := range []string{"o1", "o2", "o3", "o4"} {
			if firstOption[o] < 1500 {
				t.Errorf("option %s shown first %d times of 8000: not shuffled", o, firstOption[o])
			}
		}
	}
	// The whole bank: a permutation of it.
	all := Draw(b, 10, CryptoRand)
	ids := make([]string, len(all))
	for i, d := range all {
		ids[i] = d.Question
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != 10 {
		t.Errorf("drawing the whole bank: %v", ids)
	}
}

func TestGrade(t *testing.T) {
	b := &Bank{Questions: []Question{
		{ID: "s", Kind: Single, Options: []Option{{ID: "x"}, {ID: "y"}, {ID: "z"}}, Answer: []string{"y"}},
		{ID: "m", Kind: Multiple, Options: []Option{{ID: "x"}, {ID: "y"}, {ID: "z"}}, Answer: []string{"x", "z"}},
	}}
	a := &Attempt{Questions: []Drawn{{Question: "s", Options: []string{"z", "y", "x"}}, {Question: "m", Options: []string{"x", "y", "z"}}}}
	for _, tc := range []struct {
		name     string
		ans      Answers
		right    []bool
		score    int
		passMark int
		passed   bool
	}{
		{"all right", Answers{"s": {"b"}, "m": {"a", "c"}}, []bool{true, true}, 100, 100, true},
		{"order of a multiple answer does not matter", Answers{"s": {"b"}, "m": {"c", "a"}}, []bool{true, true}, 100, 100, true},
		{"single wrong", Answers{"s": {"a"}, "m": {"a", "c"}}, []bool{false, true}, 50, 50, true},
		{"multiple partial is wrong", Answers{"s": {"b"}, "m": {"a"}}, []bool{true, false}, 50, 51, false},
		{"multiple superset is wrong", Answers{"s": {"b"}, "m": {"a", "b", "c"}}, []bool{true, false}, 50, 60, false},
		{"unanswered is wrong", Answers{}, []bool{false, false}, 0, 1, false},
		{"an empty choice is wrong", Answers{"s": {}, "m": {}}, []bool{false, false}, 0, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := *a
			a.State = Open
			chosen, err := a.resolve(b, tc.ans)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Unix(1000, 0)
			a.grade(b, chosen, tc.passMark, now)
			for i, r := range a.Results {
				if r.Correct != tc.right[i] {
					t.Errorf("question %s: correct=%v, want %v", r.Question, r.Correct, tc.right[i])
				}
			}
			if a.Score != tc.score || a.Passed != tc.passed || a.State != Submitted || !a.Finished.Equal(now) {
				t.Errorf("score %d passed %v state %s; want %d %v", a.Score, a.Passed, a.State, tc.score, tc.passed)
			}
		})
	}
	// 2 of 3 right is 66%: a pass mark of 67 is not reached, 66 is.
	three := &Attempt{Questions: []Drawn{{Question: "s"}, {Question: "s2"}, {Question: "s3"}}}
	b3 := &Bank{Questions: []Question{b.Questions[0], b.Questions[0], b.Questions[0]}}
	b3.Questions[1].ID, b3.Questions[2].ID = "s2", "s3"
	three.grade(b3, map[string][]string{"s": {"y"}, "s2": {"y"}, "s3": {"x"}}, 67, time.Now())
	if three.Score != 66 || three.Passed {
		t.Errorf("2 of 3 at 67%%: score %d passed %v", three.Score, three.Passed)
	}
	three.grade(b3, map[string][]string{"s": {"y"}, "s2": {"y"}, "s3": {"x"}}, 66, time.Now())
	if !three.Passed {
		t.Errorf("2 of 3 at 66%%: not passed")
	}
}

func TestResolveRefuses(t *testing.T) {
	b := &Bank{Questions: []Question{
		{ID: "s", Kind: Single, Options: []Option{{ID: "x"}, {ID: "y"}}, Answer: []string{"y"}},
		{ID: "m", Kind: Multiple, Options: []Option{{ID: "x"}, {ID: "y"}, {ID: "z"}}, Answer: []string{"x"}},
	}}
	a := &Attempt{Questions: []Drawn{{Question: "s", Options: []string{"y", "x"}}, {Question: "m", Options: []string{"x", "y", "z"}}}}
	for _, tc := range []struct {
		ans  Answers
		want string
	}{
		{Answers{"other": {"a"}}, "not part of this attempt"},
		{Answers{"s": {"c"}}, "has no option c"},
		{Answers{"s": {"a", "b"}}, "takes one option"},
		{Answers{"m": {"a", "a"}}, "chosen twice"},
	} {
		_, err := a.resolve(b, tc.ans)
		if err == nil || lab.ErrorCodeOf(err) != lab.EInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want invalid %q", tc.ans, err, tc.want)
		}
	}
	// Keys map through the attempt's order: a is y here.
	got, err := a.resolve(b, Answers{"s": {"a"}, "m": {"c", "a"}})
	if err != nil || got["s"][0] != "y" || !slices.Equal(got["m"], []string{"z", "x"}) {
		t.Errorf("resolve = %v, %v", got, err)
	}
}

func TestParseAnswers(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{`{"answers":{"q1":["a"],"m-2":["b","c"]}}`, true},
		{`{"answers":{}}`, true},
		{`{"answers":{"q1":[]}}`, true},
		{`{}`, false},
		{`{"answers":null}`, false},
		{`{"answers":{"q1":"a"}}`, false},
		{`{"answers":{"q1":[1]}}`, false},
		{`{"answers":{"Q 1":["a"]}}`, false},
		{`{"answers":{"q1":["z"]}}`, false},
		{`{"answers":{"q1":["ab"]}}`, false},
		{`{"answers":{"q1":["a","b","c","d","e","f","g","h","a"]}}`, false},
		{`{"answers":{"q1":["a"]},"score":100}`, false},
		{`{"answers":{"q1":["a"]}} {}`, false},
		{`[`, false},
		{``, false},
	} {
		got, err := ParseAnswers([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, %v; want ok=%v", tc.in, got, err, tc.ok)
		}
		if err != nil && lab.ErrorCodeOf(err) != lab.EInvalid {
			t.Errorf("%s: code %s, want invalid", tc.in, lab.ErrorCodeOf(err))
		}
	}
}

// FuzzParseAnswers: any body gives answers within the limits or an invalid
// error; never a panic.
func FuzzParseAnswers(f *testing.F) {
	for _, s := range []string{`{"answers":{"q1":["a"],"m-2":["b","c"]}}`, `{"answers":{}}`, `{}`, `[`, `{"answers":{"q":["h"]}}`} {
		f.Add([]byte(s))
	}
	b := &Bank{Questions: []Question{
		{ID: "q1", Kind: Single, Options: []Option{{ID: "x"}, {ID: "y"}}, Answer: []string{"y"}},
		{ID: "m-2", Kind: Multiple, Options: []Option{{ID: "x"}, {ID: "y"}, {ID: "z"}}, Answer: []string{"x"}},
	}}
	f.Fuzz(func(t *testing.T, data []byte) {
		ans, err := ParseAnswers(data)
		if err != nil {
			if lab.ErrorCodeOf(err) != lab.EInvalid {
				t.Fatalf("error without the invalid code: %v", err)
			}
			return
		}
		if ans == nil || len(ans) > maxAnswerQuestions {
			t.Fatalf("accepted %d answers", len(ans))
		}
		for q, keys := range ans {
			if !idPattern.MatchString(q) || len(keys) > MaxOptions {
				t.Fatalf("accepted %q: %v", q, keys)
			}
		}
		// Whatever passed the decoder is safe to resolve and grade.
		a := &Attempt{Questions: []Drawn{{Question: "q1", Options: []string{"x", "y"}}, {Question: "m-2", Options: []string{"z", "y", "x"}}}}
		if chosen, err := a.resolve(b, ans); err == nil {
			a.grade(b, chosen, 50, time.Unix(0, 0))
			if a.Score < 0 || a.Score > 100 {
				t.Fatalf("score %d", a.Score)
			}
		}
		if _, err := json.Marshal(ans); err != nil {
			t.Fatal(err)
		}
	})
}

package exam

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// State is where an attempt is.
type State string

const (
	Open      State = "open"      // the trainee is answering
	Submitted State = "submitted" // graded
	Expired   State = "expired"   // the time ran out before an answer came
)

// Grace is how long after its deadline an attempt still takes answers: the
// time a submit pressed at the last second needs to arrive.
const Grace = 30 * time.Second

// Attempt is one sitting of an exam by one user. Questions hold the bank's
// option ids in the order shown to the trainee; Answers hold bank option ids.
type Attempt struct {
	ID        string
	Exam      string // the program's id
	User      string
	State     State
	Started   time.Time
	Deadline  time.Time
	Finished  time.Time // when graded, or the deadline when it expired
	Questions []Drawn
	Answers   map[string][]string // question id -> chosen bank option ids
	Results   []Result            // per question, in the order drawn
	Score     int                 // percent, rounded down
	Passed    bool
}

// Drawn is one question of an attempt: the bank question and its options in
// the order this attempt shows them.
type Drawn struct {
	Question string   `json:"q"`
	Options  []string `json:"o"`
}

// Result says whether one question was answered right; never which option is.
type Result struct {
	Question string `json:"question"`
	Correct  bool   `json:"correct"`
}

// Rand picks numbers for drawing and shuffling; crypto/rand by default.
type Rand interface {
	IntN(n int) int
}

// cryptoSource feeds math/rand/v2 (unbiased IntN) from crypto/rand, so a
// trainee cannot predict the next draw from earlier ones.
type cryptoSource struct{}

func (cryptoSource) Uint64() uint64 {
	var b [8]byte
	rand.Read(b[:]) // never fails (Go 1.24+)
	return binary.LittleEndian.Uint64(b[:])
}

// CryptoRand is the default Rand.
var CryptoRand Rand = mrand.New(cryptoSource{})

// Draw picks n distinct questions of the bank at random and shuffles each
// one's options.
func Draw(b *Bank, n int, r Rand) []Drawn {
	n = min(n, len(b.Questions))
	idx := make([]int, len(b.Questions))
	for i := range idx {
		idx[i] = i
	}
	// Partial Fisher-Yates: the first n places are a uniform sample, in random order.
	for i := range n {
		j := i + r.IntN(len(idx)-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	out := make([]Drawn, n)
	for i, k := range idx[:n] {
		q := b.Questions[k]
		opts := make([]string, len(q.Options))
		for j, o := range q.Options {
			opts[j] = o.ID
		}
		for j := len(opts) - 1; j > 0; j-- {
			k := r.IntN(j + 1)
			opts[j], opts[k] = opts[k], opts[j]
		}
		out[i] = Drawn{Question: q.ID, Options: opts}
	}
	return out
}

// newID returns 128 random bits in hex: attempt ids reveal nothing.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// OptionKey is the id the trainee sees for the i-th option shown: a, b, c...
// Bank option ids never leave the server, so nothing in an id hints at the
// key or at the order the author wrote the options in.
func OptionKey(i int) string { return string(rune('a' + i)) }

// Answers is what a trainee submits: question id -> chosen option keys (a, b...).
type Answers map[string][]string

// Limits of a submission, far above any real exam.
const (
	maxAnswerQuestions = 500
	maxIDLen           = 64
)

// ParseAnswers decodes a submission {"answers": {"<question>": ["a", ...]}}
// strictly: no other fields, no other types, bounded sizes.
func ParseAnswers(data []byte) (Answers, error) {
	var body struct {
		Answers map[string][]string `json:"answers"`
	}
	if err := strictJSON(data, &body); err != nil {
		return nil, lab.Errorf(lab.EInvalid, "the answers are not valid: %v; send {\"answers\": {\"question-id\": [\"a\"]}}", err)
	}
	if body.Answers == nil {
		return nil, lab.Errorf(lab.EInvalid, "missing answers: send {\"answers\": {\"question-id\": [\"a\"]}}")
	}
	if len(body.Answers) > maxAnswerQuestions {
		return nil, lab.Errorf(lab.EInvalid, "answers to %d questions; an exam has at most %d", len(body.Answers), maxAnswerQuestions)
	}
	for q, keys := range body.Answers {
		if len(q) > maxIDLen || !idPattern.MatchString(q) {
			return nil, lab.Errorf(lab.EInvalid, "%.64q is not a question id", q)
		}
		if len(keys) > MaxOptions {
			return nil, lab.Errorf(lab.EInvalid, "question %s: %d options chosen; a question has at most %d", q, len(keys), MaxOptions)
		}
		for _, k := range keys {
			if len(k) != 1 || k[0] < 'a' || k[0] >= 'a'+MaxOptions {
				return nil, lab.Errorf(lab.EInvalid, "question %s: %.16q is not an option (a to %s)", q, k, OptionKey(MaxOptions-1))
			}
		}
	}
	return body.Answers, nil
}

func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("more than one JSON value")
	}
	return nil
}

// resolve turns a submission's option keys into bank option ids, checking
// it against the attempt: only its questions, only their options, one
// option for a single-choice question, no option twice.
func (a *Attempt) resolve(b *Bank, ans Answers) (map[string][]string, error) {
	out := map[string][]string{}
	for qid, keys := range ans {
		i := slices.IndexFunc(a.Questions, func(d Drawn) bool { return d.Question == qid })
		if i < 0 {
			return nil, lab.Errorf(lab.EInvalid, "question %s is not part of this attempt", qid)
		}
		d := a.Questions[i]
		q, ok := b.Question(qid)
		if !ok {
			return nil, lab.Errorf(lab.EInvalid, "question %s is no longer in the bank", qid)
		}
		if q.Kind == Single && len(keys) > 1 {
			return nil, lab.Errorf(lab.EInvalid, "question %s takes one option, %d were chosen", qid, len(keys))
		}
		var ids []string
		for _, k := range keys {
			n := int(k[0] - 'a')
			if n >= len(d.Options) {
				return nil, lab.Errorf(lab.EInvalid, "question %s has no option %s", qid, k)
			}
			if slices.Contains(ids, d.Options[n]) {
				return nil, lab.Errorf(lab.EInvalid, "question %s: option %s chosen twice", qid, k)
			}
			ids = append(ids, d.Options[n])
		}
		out[qid] = ids
	}
	return out, nil
}

// grade marks each question right when exactly its right options were
// chosen (no partial credit for multiple choice), and the attempt passed
// when the share of right answers reaches passMark percent.
func (a *Attempt) grade(b *Bank, answers map[string][]string, passMark int, now time.Time) {
	a.Answers = answers
	a.Results = make([]Result, len(a.Questions))
	right := 0
	for i, d := range a.Questions {
		ok := false
		if q, found := b.Question(d.Question); found {
			ok = sameSet(q.Answer, answers[d.Question])
		}
		if ok {
			right++
		}
		a.Results[i] = Result{Question: d.Question, Correct: ok}
	}
	total := max(len(a.Questions), 1)
	a.Score = right * 100 / total
	a.Passed = right*100 >= passMark*total
	a.State, a.Finished = Submitted, now
}

// expire closes an open attempt whose time ran out: it ended at its deadline,
// with no answers, failed.
func (a *Attempt) expire() {
	a.State, a.Finished = Expired, a.Deadline
	a.Answers, a.Results, a.Score, a.Passed = nil, nil, 0, false
}

// Overdue reports whether an open attempt is past its deadline and grace.
func (a *Attempt) Overdue(now time.Time) bool {
	return a.State == Open && now.After(a.Deadline.Add(Grace))
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

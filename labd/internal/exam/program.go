// Package exam runs certification programs: their files (certs/<id>.yaml
// and a question bank each), exam attempts drawn and graded on the server,
// each trainee's progress towards a program, and the claim of its
// certificate. It defines the small interfaces it needs (Store, LabResults,
// Issuer, RoleGranter); adapters implement them and run.go wires them.
package exam

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/strictyaml"
)

// Program is a parsed and validated certs/<id>.yaml: what a trainee must do
// to earn its certificate.
type Program struct {
	ID          string   `field:"id,required"`
	Title       lab.Text `field:"title,required"`
	Description lab.Text `field:"description,required"`
	Course      string   `field:"course"`   // the course the program certifies, if any
	Labs        []string `field:"labs"`     // labs to pass: every step in one session
	Requires    []string `field:"requires"` // programs whose certificate the trainee must hold
	Exam        Spec     `field:"exam,required"`
	Validity    Validity `field:"validity,required"`
	// GrantsRole is the role a holder of the certificate gets (lecturer), or "".
	GrantsRole string `field:"grants_role"`
	Bank       *Bank  `field:"-"`
	File       string `field:"-"`
}

// Spec is how a program's exam is drawn, timed and passed.
type Spec struct {
	Bank        string       `field:"bank,required"` // file name beside the program
	Draw        int          `field:"draw,required"` // questions per attempt
	PassMark    int          `field:"pass_mark,required"`
	TimeLimit   lab.Duration `field:"time_limit,required"`
	MaxAttempts int          `field:"max_attempts,required"`
	// Cooldown is the wait after a failed attempt before the next one.
	Cooldown lab.Duration `field:"cooldown"`
}

// Bank is a question bank: certs/<program>.bank.yaml.
type Bank struct {
	Questions []Question `field:"questions,required"`
	File      string     `field:"-"`
}

// Kinds of question: one right option, or a set of them.
const (
	Single   = "single"
	Multiple = "multiple"
)

// Question is one exam question. Answer is the key: it never leaves the server.
type Question struct {
	ID          string   `field:"id,required"`
	Kind        string   `field:"kind,required"`
	Topic       string   `field:"topic,required"`
	Text        lab.Text `field:"text,required"`
	Options     []Option `field:"options,required"`
	Answer      []string `field:"answer,required"`
	Explanation lab.Text `field:"explanation"`
}

// Option is one choice of a question.
type Option struct {
	ID   string   `field:"id,required"`
	Text lab.Text `field:"text,required"`
}

// Question returns the bank's question with id.
func (b *Bank) Question(id string) (*Question, bool) {
	for i := range b.Questions {
		if b.Questions[i].ID == id {
			return &b.Questions[i], true
		}
	}
	return nil, false
}

// Validity is how long a certificate stays valid: whole years, months or
// days, written 2y, 18mo or 90d (calendar units, unlike a duration).
type Validity struct {
	Years, Months, Days int
}

// ParseValidity parses 2y, 18mo or 90d.
func ParseValidity(s string) (Validity, error) {
	for _, u := range []struct {
		suffix string
		set    func(n int) Validity
	}{
		{"mo", func(n int) Validity { return Validity{Months: n} }},
		{"y", func(n int) Validity { return Validity{Years: n} }},
		{"d", func(n int) Validity { return Validity{Days: n} }},
	} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.Atoi(num)
			if err != nil || n <= 0 || n > 100*366 || strings.HasPrefix(num, "+") {
				break
			}
			return u.set(n), nil
		}
	}
	return Validity{}, fmt.Errorf("want a period such as 2y, 18mo or 90d, found %q", s)
}

// DecodeNode reads a validity from YAML.
func (v *Validity) DecodeNode(n *yaml.Node) error {
	p, err := ParseValidity(n.Value)
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// Until returns when a certificate issued at t stops being valid.
func (v Validity) Until(t time.Time) time.Time { return t.AddDate(v.Years, v.Months, v.Days) }

func (v Validity) String() string {
	switch {
	case v.Years > 0:
		return fmt.Sprintf("%dy", v.Years)
	case v.Months > 0:
		return fmt.Sprintf("%dmo", v.Months)
	}
	return fmt.Sprintf("%dd", v.Days)
}

// Programs is the set of certification programs labd serves.
type Programs struct {
	byID  map[string]*Program
	order []string
}

// NewPrograms makes a set of already validated programs (for tests).
func NewPrograms(ps ...*Program) *Programs {
	c := &Programs{byID: map[string]*Program{}}
	for _, p := range ps {
		c.byID[p.ID] = p
		c.order = append(c.order, p.ID)
	}
	sort.Strings(c.order)
	return c
}

// Program returns the program with id.
func (c *Programs) Program(id string) (*Program, bool) {
	p, ok := c.byID[id]
	return p, ok
}

// All returns every program in id order.
func (c *Programs) All() []*Program {
	out := make([]*Program, len(c.order))
	for i, id := range c.order {
		out[i] = c.byID[id]
	}
	return out
}

// Limits of a program file.
const (
	MaxOptions     = 8
	MaxTimeLimit   = 8 * time.Hour
	MaxMaxAttempts = 100
	// BankSuffix ends the name of a question bank file; other .yaml files in
	// the folder are programs.
	BankSuffix = ".bank.yaml"
)

// Roles a program may grant.
var GrantableRoles = []string{"lecturer"}

var idPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// LoadPrograms loads and validates every certs/<id>.yaml under dir with the
// bank each names. knownLab says whether a lab id exists in labs/. On any
// problem it returns lab.FieldErrors naming every file, line and field.
func LoadPrograms(dir string, knownLab func(id string) bool) (*Programs, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read certs folder: %w", err)
	}
	var errs lab.FieldErrors
	var progs []*Program
	lines := map[*Program]*strictyaml.Decoder{} // for checks across files
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, BankSuffix) || strings.HasPrefix(name, ".") {
			continue
		}
		file := filepath.Join(dir, name)
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read program: %w", err)
		}
		p, dec := parseProgram(file, data, knownLab)
		if !dec.Decoded() {
			errs = append(errs, dec.Errs()...)
			continue
		}
		if p.Exam.Bank != "" {
			p.Bank = loadBank(dec, p, dir, &errs)
		}
		// A program with problems still takes part in the checks across
		// files, so one run names every problem.
		lines[p] = dec
		progs = append(progs, p)
	}
	c := NewPrograms(progs...)
	for _, p := range progs {
		dec := lines[p]
		for i, r := range p.Requires {
			if _, ok := c.Program(r); !ok && r != p.ID {
				dec.Fail(fmt.Sprintf("requires[%d]", i), "no program %q in %s", r, dir)
			}
		}
		if cycle := c.cycle(p.ID, nil); cycle != nil {
			dec.Fail("requires", "programs require each other in a circle: %s", strings.Join(cycle, " → "))
		}
		errs = append(errs, dec.Errs()...)
	}
	if len(errs) > 0 {
		return nil, errs.Sorted()
	}
	return c, nil
}

// cycle returns a chain of requirements from id back to itself, or nil.
func (c *Programs) cycle(id string, path []string) []string {
	if slices.Contains(path, id) {
		if path[0] == id {
			return append(path, id)
		}
		return nil // a circle that does not pass through the start is reported by its own members
	}
	p, ok := c.Program(id)
	if !ok {
		return nil
	}
	for _, r := range p.Requires {
		if cy := c.cycle(r, append(slices.Clone(path), id)); cy != nil {
			return cy
		}
	}
	return nil
}

// ParseProgram decodes and validates a program file's data, without its bank
// (for tests and the fuzz target; LoadPrograms reads the bank too).
func ParseProgram(file string, data []byte, knownLab func(id string) bool) (*Program, error) {
	p, dec := parseProgram(file, data, knownLab)
	if fe := dec.Errs(); fe != nil {
		return nil, fe
	}
	return p, nil
}

func parseProgram(file string, data []byte, knownLab func(string) bool) (*Program, *strictyaml.Decoder) {
	p := &Program{File: file}
	dec := strictyaml.Decode(file, data, p)
	if !dec.Decoded() {
		return p, dec
	}
	want := strings.TrimSuffix(filepath.Base(file), ".yaml")
	switch {
	case !idPattern.MatchString(p.ID):
		dec.Fail("id", "want lowercase letters, digits and dashes (at most 63), found %q", p.ID)
	case want != p.ID:
		dec.Fail("id", "must match the file name %q", want)
	}
	text(dec, "title", p.Title)
	text(dec, "description", p.Description)
	if p.Course != "" && !idPattern.MatchString(p.Course) {
		dec.Fail("course", "want a course id such as ceph-ops, found %q", p.Course)
	}
	seen := map[string]bool{}
	for i, l := range p.Labs {
		path := fmt.Sprintf("labs[%d]", i)
		switch {
		case seen[l]:
			dec.Fail(path, "lab %q listed twice", l)
		case !knownLab(l):
			dec.Fail(path, "no lab %q in labs/", l)
		}
		seen[l] = true
	}
	seen = map[string]bool{}
	for i, r := range p.Requires {
		path := fmt.Sprintf("requires[%d]", i)
		switch {
		case r == p.ID:
			dec.Fail(path, "a program cannot require itself")
		case seen[r]:
			dec.Fail(path, "program %q listed twice", r)
		case !idPattern.MatchString(r):
			dec.Fail(path, "want a program id, found %q", r)
		}
		seen[r] = true
	}
	x := p.Exam
	if x.Bank != "" && (filepath.Base(x.Bank) != x.Bank || !strings.HasSuffix(x.Bank, BankSuffix)) {
		dec.Fail("exam.bank", "want a file name ending %s in the certs folder, found %q", BankSuffix, x.Bank)
	}
	if x.Draw < 1 {
		dec.Fail("exam.draw", "want at least 1 question, found %d", x.Draw)
	}
	if x.PassMark < 1 || x.PassMark > 100 {
		dec.Fail("exam.pass_mark", "want a percentage from 1 to 100, found %d", x.PassMark)
	}
	if x.TimeLimit.D() > MaxTimeLimit {
		dec.Fail("exam.time_limit", "want at most %s, found %s", MaxTimeLimit, x.TimeLimit)
	}
	if x.MaxAttempts < 1 || x.MaxAttempts > MaxMaxAttempts {
		dec.Fail("exam.max_attempts", "want from 1 to %d, found %d", MaxMaxAttempts, x.MaxAttempts)
	}
	if p.GrantsRole != "" && !slices.Contains(GrantableRoles, p.GrantsRole) {
		dec.Fail("grants_role", "want one of %s, found %q", strings.Join(GrantableRoles, ", "), p.GrantsRole)
	}
	return p, dec
}

// loadBank reads and validates the program's bank. Problems in the bank are
// reported against the bank file; a draw larger than the bank against the
// program's exam.draw.
func loadBank(dec *strictyaml.Decoder, p *Program, dir string, errs *lab.FieldErrors) *Bank {
	if filepath.Base(p.Exam.Bank) != p.Exam.Bank || !strings.HasSuffix(p.Exam.Bank, BankSuffix) {
		return nil // said by parseProgram
	}
	file := filepath.Join(dir, p.Exam.Bank)
	data, err := os.ReadFile(file)
	if err != nil {
		dec.Fail("exam.bank", "file %s not found in the certs folder", p.Exam.Bank)
		return nil
	}
	b, err := ParseBank(file, data)
	if err != nil {
		var fe lab.FieldErrors
		if errors.As(err, &fe) {
			*errs = append(*errs, fe...)
		}
		return nil
	}
	if p.Exam.Draw > len(b.Questions) {
		dec.Fail("exam.draw", "draws %d questions from a bank of %d (%s)", p.Exam.Draw, len(b.Questions), p.Exam.Bank)
	}
	return b
}

// ParseBank decodes and validates a question bank.
func ParseBank(file string, data []byte) (*Bank, error) {
	b := &Bank{File: file}
	dec := strictyaml.Decode(file, data, b)
	if dec.Decoded() {
		validateBank(dec, b)
	}
	if fe := dec.Errs(); fe != nil {
		return nil, fe
	}
	return b, nil
}

func validateBank(dec *strictyaml.Decoder, b *Bank) {
	if len(b.Questions) == 0 {
		dec.Fail("questions", "a bank needs at least one question")
	}
	ids := map[string]bool{}
	for i := range b.Questions {
		q := &b.Questions[i]
		p := fmt.Sprintf("questions[%d]", i)
		switch {
		case !idPattern.MatchString(q.ID):
			dec.Fail(p+".id", "want lowercase letters, digits and dashes, found %q", q.ID)
		case ids[q.ID]:
			dec.Fail(p+".id", "duplicate question id %q", q.ID)
		}
		ids[q.ID] = true
		if q.Kind != Single && q.Kind != Multiple {
			dec.Fail(p+".kind", "want single or multiple, found %q", q.Kind)
		}
		if !idPattern.MatchString(q.Topic) {
			dec.Fail(p+".topic", "want a topic slug such as crush, found %q", q.Topic)
		}
		text(dec, p+".text", q.Text)
		if len(q.Options) < 2 || len(q.Options) > MaxOptions {
			dec.Fail(p+".options", "want from 2 to %d options, found %d", MaxOptions, len(q.Options))
		}
		opts := map[string]bool{}
		for j, o := range q.Options {
			op := fmt.Sprintf("%s.options[%d]", p, j)
			switch {
			case !idPattern.MatchString(o.ID):
				dec.Fail(op+".id", "want lowercase letters, digits and dashes, found %q", o.ID)
			case opts[o.ID]:
				dec.Fail(op+".id", "duplicate option id %q", o.ID)
			}
			opts[o.ID] = true
			text(dec, op+".text", o.Text)
		}
		if len(q.Answer) == 0 {
			dec.Fail(p+".answer", "name the right option(s)")
		}
		if q.Kind == Single && len(q.Answer) > 1 {
			dec.Fail(p+".answer", "a single-choice question has one right option, found %d", len(q.Answer))
		}
		given := map[string]bool{}
		for j, a := range q.Answer {
			ap := fmt.Sprintf("%s.answer[%d]", p, j)
			switch {
			case !opts[a]:
				dec.Fail(ap, "%q is not one of the question's options", a)
			case given[a]:
				dec.Fail(ap, "%q given twice", a)
			}
			given[a] = true
		}
		if q.Explanation != (lab.Text{}) {
			text(dec, p+".explanation", q.Explanation)
		}
	}
}

func text(dec *strictyaml.Decoder, path string, t lab.Text) {
	if strings.TrimSpace(t.ZH) == "" {
		dec.Fail(path+".zh", "empty")
	}
	if strings.TrimSpace(t.EN) == "" {
		dec.Fail(path+".en", "empty")
	}
}

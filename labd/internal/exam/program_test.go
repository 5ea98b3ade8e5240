package exam

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/strictyaml/yamltest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func knownLab(id string) bool { return id == "demo" || id == "other" }

func TestParseProgramGood(t *testing.T) {
	data, _ := os.ReadFile("testdata/good.yaml")
	p, err := ParseProgram("certs/demo.yaml", data, knownLab)
	if err != nil {
		t.Fatalf("good program rejected:\n%v", err)
	}
	if p.ID != "demo" || p.Title.EN != "Demo certification" || p.Course != "ceph-ops" || len(p.Labs) != 1 {
		t.Errorf("program = %+v", p)
	}
	x := p.Exam
	if x.Bank != "demo.bank.yaml" || x.Draw != 3 || x.PassMark != 60 || x.TimeLimit.D() != 30*time.Minute ||
		x.MaxAttempts != 2 || x.Cooldown.D() != time.Hour {
		t.Errorf("exam = %+v", x)
	}
	issued := time.Date(2026, 2, 28, 10, 0, 0, 0, time.UTC)
	if got := p.Validity.Until(issued); !got.Equal(time.Date(2028, 2, 28, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("valid until %s", got)
	}
	data, _ = os.ReadFile("testdata/good.bank.yaml")
	b, err := ParseBank("certs/demo.bank.yaml", data)
	if err != nil {
		t.Fatalf("good bank rejected:\n%v", err)
	}
	if q, ok := b.Question("q2"); !ok || q.Kind != Multiple || len(q.Answer) != 2 || q.Explanation.EN != "Why" {
		t.Errorf("q2 = %+v", q)
	}
}

func TestParseValidity(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Validity
		ok   bool
	}{
		{"2y", Validity{Years: 2}, true}, {"18mo", Validity{Months: 18}, true}, {"90d", Validity{Days: 90}, true},
		{"2 y", Validity{}, false}, {"0y", Validity{}, false}, {"-1d", Validity{}, false}, {"+1d", Validity{}, false},
		{"2h", Validity{}, false}, {"y", Validity{}, false}, {"", Validity{}, false}, {"99999999999y", Validity{}, false},
	} {
		got, err := ParseValidity(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseValidity(%q) = %+v, %v; want %+v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok && got.String() != tc.in {
			t.Errorf("%q prints as %q", tc.in, got.String())
		}
	}
}

// golden compares err with the golden file beside the test file.
func golden(t *testing.T, file string, err error) {
	t.Helper()
	yamltest.Golden(t, file, err, *update)
}

// TestBadFiles checks, against golden files, that each broken program and
// bank is rejected with every problem named by file, line and field.
func TestBadFiles(t *testing.T) {
	for _, kind := range []string{"bad-program", "bad-bank"} {
		files, _ := filepath.Glob("testdata/" + kind + "/*.yaml")
		if len(files) < 4 {
			t.Fatalf("%s: %d test files", kind, len(files))
		}
		for _, file := range files {
			t.Run(kind+"/"+filepath.Base(file), func(t *testing.T) {
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				if kind == "bad-program" {
					_, err = ParseProgram("certs/demo.yaml", data, knownLab)
				} else {
					_, err = ParseBank("certs/demo.bank.yaml", data)
				}
				golden(t, file, err)
			})
		}
	}
}

// TestLoadProgramsBad covers the checks across files: the bank is read, a
// draw fits it, required programs exist and do not require each other.
func TestLoadProgramsBad(t *testing.T) {
	entries, _ := os.ReadDir("testdata/load")
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join("testdata/load", e.Name()))
		}
	}
	if len(dirs) < 4 {
		t.Fatalf("%d test folders", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			_, err := LoadPrograms(dir, knownLab)
			golden(t, filepath.Clean(dir)+".yaml", err)
		})
	}
}

// TestLoadProgramsRepository loads the real certs/ against the real labs/:
// the programs the site and the course name must be there and sound.
func TestLoadProgramsRepository(t *testing.T) {
	labs, err := lab.LoadCatalog("../../../labs")
	if err != nil {
		t.Fatal(err)
	}
	progs, err := LoadPrograms("../../../certs", func(id string) bool { _, ok := labs.Lab(id); return ok })
	if err != nil {
		t.Fatalf("the repository's programs do not validate:\n%v", err)
	}
	ops, ok := progs.Program("storage-ops")
	if !ok || ops.Course != "ceph-ops" || len(ops.Bank.Questions) < 40 || ops.Exam.Draw < 15 {
		t.Fatalf("storage-ops = %+v", ops)
	}
	lect, ok := progs.Program("certified-lecturer")
	if !ok || lect.GrantsRole != "lecturer" || len(lect.Requires) != 1 || lect.Requires[0] != "storage-ops" {
		t.Fatalf("certified-lecturer = %+v", lect)
	}
	// Every multiple-choice question has at least one wrong option, and
	// single-choice keys are spread over the options' positions.
	pos := map[int]int{}
	for _, q := range ops.Bank.Questions {
		if len(q.Answer) == len(q.Options) {
			t.Errorf("%s: every option is right", q.ID)
		}
		if q.Kind == Single {
			for i, o := range q.Options {
				if o.ID == q.Answer[0] {
					pos[i]++
				}
			}
		}
	}
	if len(pos) < 4 {
		t.Errorf("single-choice answers sit at positions %v only", pos)
	}
}

func TestLoadProgramsMissingFolder(t *testing.T) {
	if _, err := LoadPrograms(filepath.Join(t.TempDir(), "nope"), knownLab); err == nil {
		t.Error("a missing folder loaded")
	}
}

// FuzzParseProgram: whatever the input, the parser returns a program that
// holds together, or FieldErrors; it never panics.
func FuzzParseProgram(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	more, _ := filepath.Glob("testdata/bad-*/*.yaml")
	for _, file := range append(files, more...) {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProgram("certs/demo.yaml", data, knownLab)
		if err == nil {
			if p.ID != "demo" || p.Exam.Draw < 1 || p.Exam.PassMark < 1 || p.Exam.PassMark > 100 || p.Exam.MaxAttempts < 1 {
				t.Fatalf("accepted an incoherent program: %+v", p)
			}
			for _, l := range p.Labs {
				if !knownLab(l) {
					t.Fatalf("unknown lab %q accepted", l)
				}
			}
		} else if fe := (lab.FieldErrors)(nil); !errors.As(err, &fe) || len(fe) == 0 {
			t.Fatalf("error is not FieldErrors: %v", err)
		}
		b, err := ParseBank("certs/demo.bank.yaml", data)
		if err != nil {
			if fe := (lab.FieldErrors)(nil); !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("error is not FieldErrors: %v", err)
			}
			return
		}
		for _, q := range b.Questions {
			if len(q.Answer) == 0 || (q.Kind == Single && len(q.Answer) != 1) {
				t.Fatalf("question %s: bad key accepted: %v", q.ID, q.Answer)
			}
			for _, a := range q.Answer {
				found := false
				for _, o := range q.Options {
					found = found || o.ID == a
				}
				if !found {
					t.Fatalf("question %s: key %q is not an option", q.ID, a)
				}
			}
		}
	})
}

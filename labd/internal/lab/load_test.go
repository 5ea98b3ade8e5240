package lab

import (
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/xsky-academy/academy/labd/internal/strictyaml/yamltest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// labFS is the folder the test lab files refer to.
var labFS = fstest.MapFS{
	"steps/01.zh.md":        {Data: []byte("第一步")},
	"steps/01.en.md":        {Data: []byte("Step one")},
	"scripts/setup.sh":      {Data: []byte("#!/bin/sh\ntrue\n")},
	"scripts/check.sh":      {Data: []byte("#!/bin/sh\ntest -f /tmp/done\n")},
	"scripts/solve.sh":      {Data: []byte("#!/bin/sh\ntouch /tmp/done\n")},
	"scripts/foreground.sh": {Data: []byte("#!/bin/bash\n\ncat <<EOF >/tmp/x\na\n\nb\nEOF\nls /tmp\n\n")},
}

func TestParseDefinitionGood(t *testing.T) {
	data, err := os.ReadFile("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDefinition("labs/demo/lab.yaml", data, labFS)
	if err != nil {
		t.Fatalf("good lab rejected:\n%v", err)
	}
	if d.ID != "demo" || d.Title.EN != "Demo" || d.Title.ZH != "演示" {
		t.Errorf("id/title = %q %+v", d.ID, d.Title)
	}
	if d.Duration.D() != 10*time.Minute || d.TimeLimit.D() != 30*time.Minute {
		t.Errorf("duration %s, time limit %s", d.Duration, d.TimeLimit)
	}
	if d.IdleTimeout.D() != DefaultIdleTimeout || d.ExtendBy.D() != 30*time.Minute {
		t.Errorf("defaults: idle %s extend %s", d.IdleTimeout, d.ExtendBy)
	}
	n1, n2 := d.Nodes[0], d.Nodes[1]
	if n1.Memory != 64<<20 || n1.CPUs != 0.5 || n1.Pids != 64 || !n1.Terminal {
		t.Errorf("node1 = %+v", n1)
	}
	if n2.Memory != DefaultMemory || n2.CPUs != DefaultCPUs || n2.Pids != DefaultPids || n2.Terminal || n2.Volumes[0] != "/data" {
		t.Errorf("node2 defaults = %+v", n2)
	}
	if d.Setup[0].Body != "#!/bin/sh\ntrue\n" || d.Setup[0].Timeout.D() != 10*time.Second {
		t.Errorf("setup = %+v", d.Setup[0])
	}
	if c := d.Setup[1]; c.Copy != "/etc/cluster" || c.From != "node1" || len(c.To) != 1 || c.Body != "" {
		t.Errorf("copy = %+v", c)
	}
	if p := d.Setup[2]; len(p.Targets()) != 2 || p.Body == "" || p.Timeout.D() != DefaultSetupTimeout {
		t.Errorf("parallel setup = %+v", p)
	}
	if len(n1.Command) != 2 || n1.Command[0] != "sleep" {
		t.Errorf("default command = %v", n1.Command)
	}
	s1, s2 := d.Steps[0], d.Steps[1]
	if s1.Check.Body != "test -f /tmp/done" || s1.Check.Timeout.D() != 5*time.Second {
		t.Errorf("step 1 check = %+v", s1.Check)
	}
	if s1.Solution.Node != "node1" || !strings.Contains(s1.Solution.Body, "touch /tmp/done") {
		t.Errorf("step 1 solution = %+v", s1.Solution)
	}
	if s2.Check.Body != "#!/bin/sh\ntest -f /tmp/done\n" || s2.Check.Timeout.D() != DefaultCheckTimeout {
		t.Errorf("step 2 check = %+v", s2.Check)
	}
	if s2.Solution.Node != "node1" {
		t.Errorf("step 2 solution node = %q, want node1 (given)", s2.Solution.Node)
	}
	if len(s1.OnEnter) != 0 || len(s1.Foreground.Commands()) != 0 {
		t.Errorf("step 1 on_enter %+v, foreground %+v: want none", s1.OnEnter, s1.Foreground)
	}
	if e := s2.OnEnter; len(e) != 2 || e[0].Body != "touch /tmp/entered" || e[0].Timeout.D() != 10*time.Second ||
		len(e[1].Targets()) != 2 || e[1].Body != "#!/bin/sh\ntrue\n" || e[1].Timeout.D() != DefaultSetupTimeout {
		t.Errorf("step 2 on_enter = %+v", e)
	}
	// A script is typed line by line: no #! line, no blank lines around,
	// the blank line of its here-document kept.
	if got, want := strings.Join(s2.Foreground.Commands(), "|"), "cat <<EOF >/tmp/x|a||b|EOF|ls /tmp"; s2.Foreground.Node != "node1" || got != want {
		t.Errorf("step 2 foreground on %q = %q, want %q", s2.Foreground.Node, got, want)
	}
	if got := d.Foreground.Commands(); d.Foreground.Node != "node1" || len(got) != 1 || got[0] != "cd /tmp" {
		t.Errorf("lab foreground = %+v %q", d.Foreground, got)
	}
	if len(n1.Addresses) != 1 || len(n2.Addresses) != 2 || n2.Addresses[0] != "172.30.2.2/16" {
		t.Errorf("addresses = %v %v", n1.Addresses, n2.Addresses)
	}
	if d.SourceLang != "en" || len(d.Untranslated) != 1 ||
		d.Warnings.Error() != "labs/demo/lab.yaml:6: untranslated: zh texts are copies of en" {
		t.Errorf("source %q, untranslated %v, warnings %q", d.SourceLang, d.Untranslated, d.Warnings.Error())
	}
}

// TestParseDefinitionBad checks, against golden files, that each broken lab
// file is rejected with every problem named by file, line and field.
func TestParseDefinitionBad(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseDefinition("labs/demo/lab.yaml", data, labFS)
			yamltest.Golden(t, file, err, *update)
		})
	}
}

func TestLoadCatalogRealLabs(t *testing.T) {
	c, err := LoadCatalog("../../../labs")
	if err != nil {
		t.Fatalf("the repository's labs do not validate:\n%v", err)
	}
	if len(c.All()) < 2 {
		t.Fatalf("%d labs, want at least 2", len(c.All()))
	}
	for _, d := range c.All() {
		for _, s := range d.Steps {
			if s.Solution.Body == "" || s.Check.Body == "" {
				t.Errorf("%s/%s: empty check or solution", d.ID, s.ID)
			}
		}
	}
}

func TestLoadCatalogDuplicateAndMissing(t *testing.T) {
	dir := t.TempDir()
	good, _ := os.ReadFile("testdata/good.yaml")
	write := func(path string, data []byte) {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, f := range labFS {
		write(filepath.Join(dir, "demo", name), f.Data)
	}
	write(filepath.Join(dir, "demo", "lab.yaml"), good)
	os.MkdirAll(filepath.Join(dir, "empty"), 0o755)
	_, err := LoadCatalog(dir)
	if err == nil || !strings.Contains(err.Error(), "empty/lab.yaml:0: (document): missing") {
		t.Errorf("folder without lab.yaml: err = %v", err)
	}
	os.Remove(filepath.Join(dir, "empty"))
	c, err := LoadCatalog(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Lab("demo"); !ok {
		t.Error("demo not loaded")
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Size
		ok   bool
	}{
		{"512Mi", 512 << 20, true}, {"1.5Gi", 3 << 29, true}, {"1G", 1e9, true}, {"1048576", 1 << 20, true},
		{"1.5GB", 0, false}, {"-1Mi", 0, false}, {"Mi", 0, false}, {"1e9", 0, false}, {"0x10", 0, false}, {"", 0, false},
	} {
		got, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseDefinition: whatever the input, the parser returns a definition
// that holds together, or FieldErrors; it never panics.
func FuzzParseDefinition(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	more, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, file := range append(files, more...) {
		data, _ := os.ReadFile(file)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDefinition("labs/demo/lab.yaml", data, labFS)
		if err != nil {
			var fe FieldErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("error is not FieldErrors: %v", err)
			}
			return
		}
		if len(d.Nodes) == 0 || len(d.Steps) == 0 || d.TimeLimit < d.Duration {
			t.Fatalf("accepted an incoherent lab: %+v", d)
		}
		seen := map[netip.Addr]bool{}
		for _, n := range d.Nodes {
			for _, a := range n.Addresses {
				p, err := netip.ParsePrefix(a)
				if err != nil || !p.Addr().Is4() || p.Addr().IsLoopback() || p.Addr().IsMulticast() || seen[p.Addr()] {
					t.Fatalf("node %q: address %q accepted", n.Name, a)
				}
				seen[p.Addr()] = true
			}
		}
		for _, s := range d.Steps {
			if _, ok := d.Node(s.Check.Node); !ok {
				t.Fatalf("check on unknown node %q accepted", s.Check.Node)
			}
			if s.Check.Body == "" || s.Solution.Body == "" {
				t.Fatalf("step %q without check or solution body", s.ID)
			}
			for _, a := range s.OnEnter {
				if a.Body == "" || len(a.Targets()) == 0 {
					t.Fatalf("step %q: on_enter without a body or a node: %+v", s.ID, a)
				}
			}
			if f := s.Foreground; f != (Foreground{}) {
				if n, ok := d.Node(f.Node); !ok || !n.Terminal || f.Body == "" {
					t.Fatalf("step %q: foreground %+v accepted", s.ID, f)
				}
			}
		}
	})
}

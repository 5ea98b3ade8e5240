package killercoda

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// q quotes s for YAML: a JSON string is a YAML double-quoted scalar.
func q(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// text is a bilingual field whose other language is a copy.
func text(s string) string { return fmt.Sprintf("{zh: %s, en: %s}", q(s), q(s)) }

func (c *converter) setupLine(script string, nodes ...string) string {
	if len(nodes) == 1 {
		return fmt.Sprintf("{node: %s, script: %s}", nodes[0], script)
	}
	return fmt.Sprintf("{nodes: [%s], script: %s}", strings.Join(nodes, ", "), script)
}

// labYAML writes lab.yaml by hand, so it reads like the labs people write.
func (c *converter) labYAML(sc *Scenario, memory string, setup []string, foreground string, steps []step) string {
	var b strings.Builder
	other := map[string]string{"en": "zh", "zh": "en"}[c.opt.Lang]
	fmt.Fprintf(&b, "# Imported from the Killercoda scenario %s (backend %s) by labd import killercoda.\n", first(c.opt.Source, c.dir), sc.Backend.ImageID)
	fmt.Fprintf(&b, "id: %s\n", c.lab.ID)
	fmt.Fprintf(&b, "title: %s\n", text(first(strings.TrimSpace(sc.Title), c.lab.ID)))
	if d := strings.TrimSpace(sc.Description); d != "" {
		fmt.Fprintf(&b, "summary: %s\n", text(d))
	}
	dur := max(10, 5*len(steps))
	fmt.Fprintf(&b, "duration: %dm\n", dur)
	if dur > 60 {
		fmt.Fprintf(&b, "time_limit: %dm\n", 2*dur)
	}
	fmt.Fprintf(&b, "source_lang: %s\nuntranslated: [%s]   # the %s texts are copies of the %s ones\n", c.opt.Lang, other, other, c.opt.Lang)
	b.WriteString("nodes:\n")
	for i, n := range c.nodes {
		fmt.Fprintf(&b, "  - name: %s\n    image: academy/linux\n    memory: %s\n    pids: 1024\n    terminal: true\n", n, memory)
		b.WriteString("    command: [/usr/local/sbin/academy-node]   # the ssh server, then waits\n")
		fmt.Fprintf(&b, "    addresses: [%s]   # Killercoda's address of host %d\n", hostAddrs[i], i+1)
	}
	b.WriteString("setup:\n")
	for _, s := range setup {
		fmt.Fprintf(&b, "  - %s\n", s)
	}
	if foreground != "" {
		fmt.Fprintf(&b, "foreground: {node: %s, script: %s}\n", c.nodes[0], foreground)
	}
	b.WriteString("steps:\n")
	for _, s := range steps {
		fmt.Fprintf(&b, "  - id: %s\n    title: %s\n    text: %s\n", s.id, text(s.title), s.text)
		if s.verified {
			fmt.Fprintf(&b, "    check: {node: %s, script: %s, timeout: 60s}\n", c.nodes[0], s.check)
		} else {
			fmt.Fprintf(&b, "    check: {node: %s, run: \"true\"}   # the scenario's step has no verify script\n", c.nodes[0])
		}
		fmt.Fprintf(&b, "    solution: %s\n", s.solve)
		if s.onEnter != "" {
			fmt.Fprintf(&b, "    on_enter: [{node: %s, script: %s}]\n", c.nodes[0], s.onEnter)
		}
		if s.foreground != "" {
			fmt.Fprintf(&b, "    foreground: {node: %s, script: %s}\n", c.nodes[0], s.foreground)
		}
	}
	return b.String()
}

// ErrExists is returned by Write when the lab folder exists and force is off.
var ErrExists = errors.New("exists")

// ErrNotLab is returned by Write when dir holds files but no lab.yaml: an
// --out that names a wrong folder must not have it deleted, even with force.
var ErrNotLab = errors.New("is not a lab folder (no lab.yaml); not replacing it")

// Diff lists the files in which dir differs from the lab: changed, missing
// or extra, sorted. It is nil when dir holds exactly the lab's files, so an
// import run again changes nothing, and ["."] when dir does not exist.
func (l *Lab) Diff(dir string) ([]string, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return []string{"."}, nil
	}
	seen := map[string]bool{}
	var diff []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		seen[name] = true
		want, ok := l.Files[name]
		if !ok {
			diff = append(diff, name)
			return nil
		}
		got, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			diff = append(diff, name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for name := range l.Files {
		if !seen[name] {
			diff = append(diff, name)
		}
	}
	sort.Strings(diff)
	return diff, nil
}

// Write writes the lab into dir. A dir that holds exactly the lab's files
// is left as it is; one that differs is replaced only with force, and only
// when it is a lab folder. The files go to a new folder beside dir first
// and are checked there by check (the lab loader); only a lab that passes
// takes dir's place, so a failed import leaves nothing behind and an
// earlier lab untouched.
func (l *Lab) Write(dir string, force bool, check func(dir string) error) error {
	entries, err := os.ReadDir(dir)
	exists := err == nil && len(entries) > 0 // an empty folder is as good as none
	switch {
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	case !exists:
	case !isFile(filepath.Join(dir, "lab.yaml")):
		return fmt.Errorf("%s %w", dir, ErrNotLab)
	case !force:
		diff, err := l.Diff(dir)
		if err != nil || len(diff) == 0 {
			return err // the same files: nothing to do
		}
		return fmt.Errorf("%s %w and differs from this import in %s (--force replaces it)", dir, ErrExists, listFiles(diff))
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, ".import-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// The loader wants the folder named as the lab's id.
	stage := filepath.Join(tmp, filepath.Base(dir))
	names := make([]string, 0, len(l.Files))
	for name := range l.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(stage, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, l.Files[name], mode); err != nil {
			return err
		}
	}
	if check != nil {
		if err := check(stage); err != nil {
			// The loader names the staged files: name them where they go.
			return fmt.Errorf("the imported lab does not validate: %s", strings.ReplaceAll(err.Error(), stage, dir))
		}
	}
	if !exists {
		os.Remove(dir) // an empty folder in the way
		return os.Rename(stage, dir)
	}
	// The earlier lab moves into tmp (removed with it) only once the new
	// one is ready to take its place; a failed swap puts it back.
	old := filepath.Join(tmp, "old")
	if err := os.Rename(dir, old); err != nil {
		return err
	}
	if err := os.Rename(stage, dir); err != nil {
		return errors.Join(err, os.Rename(old, dir))
	}
	return nil
}

func isFile(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.Mode().IsRegular()
}

// listFiles names up to three files of a list, and how many more.
func listFiles(names []string) string {
	if len(names) <= 3 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
}

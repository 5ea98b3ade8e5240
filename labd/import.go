package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/xsky-academy/academy/labd/internal/killercoda"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

const importUsage = `usage: labd import killercoda SRC [--id ID] [--out labs/ID] [--force] [--lang en|zh]
  SRC is a scenario folder (holding index.json), a course (holding structure.json)
  or a folder of scenarios; a course or folder is imported lab by lab into --out (default labs).
  A lab the same as the import is left alone; one that differs is replaced only with --force.
`

// importCmd converts Killercoda scenarios into lab folders and reports, per
// lab, its steps, checks, assets and warnings, naming files as SRC was
// given. A refused scenario is one line on stderr and exit 1; nothing of
// it is written. Importing again leaves a lab that is the same alone.
func importCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "killercoda" {
		fmt.Fprint(stderr, importUsage)
		return errUsage
	}
	fl := flag.NewFlagSet("import killercoda", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, importUsage); fl.PrintDefaults() }
	id := fl.String("id", "", "the lab's id (default: the scenario folder's name)")
	out := fl.String("out", "", "the lab folder (default labs/ID); for several scenarios, the labs folder (default labs)")
	force := fl.Bool("force", false, "replace a lab folder that differs from the import, edits and all (never a folder without lab.yaml)")
	lang := fl.String("lang", "en", "the language of the scenario's texts: en or zh")
	// Flags may come before or after SRC.
	var pos []string
	rest := args[1:]
	for {
		if err := parseFlags(fl, rest); err != nil {
			return err
		}
		if fl.NArg() == 0 {
			break
		}
		pos = append(pos, fl.Arg(0))
		rest = fl.Args()[1:]
	}
	if len(pos) != 1 {
		fl.Usage()
		return errUsage
	}
	src := pos[0]
	if b := filepath.Base(src); b == "index.json" || b == "structure.json" {
		src = filepath.Dir(src) // the file names its folder
	}
	if *lang != "en" && *lang != "zh" {
		return fmt.Errorf("--lang %s: want en or zh", *lang)
	}
	if *id != "" && *out != "" && filepath.Base(*out) != *id {
		return fmt.Errorf("--id %s with --out %s: a lab's folder is named as its id; give one of them", *id, *out)
	}
	root, inRepo, dirs, err := scenarios(src)
	if err != nil {
		return err
	}
	// os.Root keeps every read inside root: a symlink in a scenario cannot
	// bring a file of this machine into a lab.
	r, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer r.Close()
	show := shower(root, src)
	single := len(dirs) == 1 && dirs[0].course == ""
	if !single && *id != "" {
		return fmt.Errorf("%s holds %d scenarios: --id names one lab", src, len(dirs))
	}
	labsDir := *out
	if labsDir == "" {
		// The default is the project's labs folder: run elsewhere, it
		// would be a new folder nobody serves.
		if info, err := os.Stat("labs"); err != nil || !info.IsDir() {
			return fmt.Errorf("no labs folder here: run in the project's folder or give --out")
		}
		labsDir = "labs"
	}
	refused, same := 0, 0
	var failed []string
	for _, d := range dirs {
		opt := killercoda.Options{ID: *id, Lang: *lang, Source: d.dir}
		if !inRepo {
			// Not in a repository: the scenario's own folder name, not ".".
			opt.Source = path.Join(filepath.Base(root), d.dir)
		}
		switch {
		case single && *id == "" && *out != "":
			opt.ID = filepath.Base(*out)
		case *id == "" && d.dir == ".":
			// The scenario is the folder read from: Convert sees only ".".
			opt.ID = killercoda.Slug(filepath.Base(root), 63)
		}
		start := time.Now()
		l, err := killercoda.Convert(r.FS(), d.dir, opt)
		var ref *killercoda.RefusedError
		if errors.As(err, &ref) {
			ref.Dir = show(ref.Dir)
			if single {
				return fmt.Errorf("refused: %w", err)
			}
			refused++
			fmt.Fprintf(stderr, "labd: refused: %v\n", err)
			continue
		}
		if err != nil {
			err = scenarioErr(r.FS(), d.dir, show, err)
			if single {
				return err
			}
			failed = append(failed, d.dir)
			fmt.Fprintf(stderr, "labd: %v\n", err)
			continue
		}
		dst := *out
		if !single || dst == "" {
			dst = filepath.Join(labsDir, l.ID)
		}
		if diff, err := l.Diff(dst); err == nil && len(diff) == 0 {
			fmt.Fprintf(stdout, "labd: %s is up to date with %s\n", dst, show(d.dir))
			same++
			continue
		}
		err = l.Write(dst, *force, func(dir string) error {
			_, err := lab.LoadDefinition(filepath.Join(dir, "lab.yaml"))
			return err
		})
		if errors.Is(err, killercoda.ErrNotLab) && single {
			abs, _ := filepath.Abs(src)
			err = fmt.Errorf("%w; for one scenario --out names the lab's own folder, such as %s", err, filepath.Join(*out, killercoda.Slug(filepath.Base(abs), 63)))
		}
		if err != nil {
			if single {
				return err
			}
			failed = append(failed, d.dir)
			fmt.Fprintf(stderr, "labd: %s: %v\n", show(d.dir), err)
			continue
		}
		for _, w := range l.Warnings {
			w.File = show(w.File)
			fmt.Fprintf(stdout, "%s\n", w)
		}
		fmt.Fprintf(stdout, "labd: imported %s into %s in %s: %s, %s, %s, %s\n",
			show(d.dir), dst, time.Since(start).Round(time.Millisecond),
			count(l.Steps, "step"), count(l.Checks, "check"), count(l.Assets, "asset"), count(len(l.Warnings), "warning"))
	}
	if len(dirs) > 1 {
		fmt.Fprintf(stdout, "labd: %d scenarios: %d imported, %d up to date, %d refused, %d failed\n",
			len(dirs), len(dirs)-same-refused-len(failed), same, refused, len(failed))
	}
	if refused > 0 || len(failed) > 0 {
		return fmt.Errorf("%d of %d scenarios not imported", refused+len(failed), len(dirs))
	}
	return nil
}

// shower maps a path in root, as the importer names files, to one the
// user can open: SRC as typed, joined with the path from there.
func shower(root, src string) func(string) string {
	abs, _ := filepath.Abs(src)
	return func(p string) string {
		rel, err := filepath.Rel(abs, filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			return filepath.Join(root, p)
		}
		return filepath.Join(src, rel)
	}
}

// scenarioErr names the scenario's file (or folder) an error is about as
// the user can open it: an error that starts with a path in root gets
// that path shown, any other the scenario's folder in front.
func scenarioErr(fsys fs.FS, dir string, show func(string) string, err error) error {
	msg := err.Error()
	if p, rest, ok := strings.Cut(msg, ": "); ok && !strings.ContainsAny(p, " \"") {
		if _, serr := fs.Stat(fsys, p); serr == nil {
			return errors.New(show(p) + ": " + rest)
		}
	}
	return fmt.Errorf("%s: %w", show(dir), err)
}

// count is "1 step", "3 steps".
func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

type scenarioDir struct{ dir, course string }

// scenarios finds what SRC holds: one scenario, a course's scenarios (in
// structure.json's order) or every scenario below it. Files are read from
// root, the repository SRC is in (a step may link to the repository's
// shared images), given back with the scenario folders relative to it.
func scenarios(src string) (root string, inRepo bool, dirs []scenarioDir, err error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", false, nil, err
	}
	if info, err := os.Stat(abs); err != nil || !info.IsDir() {
		return "", false, nil, fmt.Errorf("%s: not a scenario folder", src)
	}
	root = abs
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			root, inRepo = d, true
			break
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	rel, _ := filepath.Rel(root, abs)
	rel = filepath.ToSlash(rel)
	fsys := os.DirFS(root)
	if _, err := fs.Stat(fsys, path.Join(rel, "index.json")); err == nil {
		return root, inRepo, []scenarioDir{{dir: rel}}, nil
	}
	if data, err := fs.ReadFile(fsys, path.Join(rel, "structure.json")); err == nil {
		st, err := killercoda.ParseStructure(data)
		if err != nil {
			return "", false, nil, fmt.Errorf("%s: %w", filepath.Join(src, "structure.json"), err)
		}
		for _, it := range st.Items {
			dirs = append(dirs, scenarioDir{dir: path.Join(rel, path.Clean(it.Path)), course: rel})
		}
		return root, inRepo, dirs, nil
	}
	fs.WalkDir(fsys, rel, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") && p != rel {
			return fs.SkipDir
		}
		if _, err := fs.Stat(fsys, path.Join(p, "index.json")); err == nil {
			dirs = append(dirs, scenarioDir{dir: p, course: rel})
			return fs.SkipDir
		}
		return nil
	})
	sort.Slice(dirs, func(i, j int) bool { return dirs[i].dir < dirs[j].dir })
	if len(dirs) == 0 {
		return "", false, nil, fmt.Errorf("%s: no index.json, structure.json or scenario folders in it", src)
	}
	return root, inRepo, dirs, nil
}

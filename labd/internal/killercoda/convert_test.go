package killercoda

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// report is what the import tells its user, kept with the golden files.
func report(l *Lab) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id: %s\nsteps: %d\nchecks: %d\nassets: %d\nverified: %v\n", l.ID, l.Steps, l.Checks, l.Assets, l.Verified)
	for _, w := range l.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	return b.String()
}

// TestConvertGolden converts each scenario in testdata and compares every
// file of the lab (and the report) with testdata/golden/<case>; -update
// rewrites them.
func TestConvertGolden(t *testing.T) {
	for _, tc := range []struct {
		name, root, dir string
		opt             Options
	}{
		{"files-basics", "testdata/scenarios", "files-basics", Options{}},
		{"two-hosts", "testdata/scenarios", "two-hosts", Options{}},
		{"katacoda-profile", "testdata/scenarios", "katacoda-profile", Options{}},
		{"processes", "testdata/scenarios", "processes", Options{}},
		{"text-tools", "testdata/scenarios", "text-tools", Options{}},
		{"grafana-intro-to-logging", "testdata/grafana", "loki/intro-to-logging", Options{ID: "intro-to-logging"}},
		{"zh-source", "testdata/scenarios", "katacoda-profile", Options{ID: "profile-zh", Lang: "zh"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Convert(os.DirFS(tc.root), tc.dir, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]byte{"REPORT": []byte(report(l))}
			for name, data := range l.Files {
				got["lab/"+name] = data
			}
			dir := filepath.Join("testdata", "golden", tc.name)
			if *update {
				os.RemoveAll(dir)
				for name, data := range got {
					p := filepath.Join(dir, filepath.FromSlash(name))
					os.MkdirAll(filepath.Dir(p), 0o755)
					if err := os.WriteFile(p, data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			want := map[string][]byte{}
			err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := os.ReadFile(p)
				rel, _ := filepath.Rel(dir, p)
				want[filepath.ToSlash(rel)] = data
				return err
			})
			if err != nil {
				t.Fatalf("%v (run go test -update to write the golden files)", err)
			}
			var names []string
			for name := range got {
				names = append(names, name)
			}
			for name := range want {
				if _, ok := got[name]; !ok {
					names = append(names, name)
				}
			}
			sort.Strings(names)
			for _, name := range names {
				switch g, w := got[name], want[name]; {
				case w == nil:
					t.Errorf("%s: written, not in the golden files", name)
				case g == nil:
					t.Errorf("%s: in the golden files, not written", name)
				case !bytes.Equal(g, w):
					t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, g, w)
				}
			}
		})
	}
}

// A scenario for the tests below, in memory.
func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, body := range files {
		m[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return m
}

const plainIndex = `{"title": "T", "details": {"steps": [{"title": "One", "text": "step1.md", "verify": "verify.sh"}]}, "backend": {"imageid": "%s"}}`

func TestConvertBackends(t *testing.T) {
	for _, tc := range []struct {
		backend, step string
		nodes         []string
		refused       string
	}{
		{"ubuntu", "ok", []string{"ubuntu"}, ""},
		{"ubuntu-4GB", "ok", []string{"ubuntu"}, ""},
		{"ubuntu:2004", "ok", []string{"ubuntu"}, ""},
		{"bash", "ok", []string{"ubuntu"}, ""},
		{"kubernetes-kubeadm-2nodes", "`ssh node01 true`{{exec}}", []string{"controlplane", "node01"}, ""},
		{"kubernetes-kubeadm-2nodes", "`kubectl get nodes`{{exec}}", nil, `backend "kubernetes-kubeadm-2nodes" with kubectl`},
		{"kubernetes-kubeadm-1node", "ok", nil, `backend "kubernetes-kubeadm-1node" is not supported`},
		{"minikube", "ok", nil, `backend "minikube" is not supported`},
		{"docker-swarm", "ok", nil, `backend "docker-swarm" is not supported`},
		{"", "ok", nil, `backend "" is not supported`},
	} {
		src := mapFS(map[string]string{"s/index.json": fmt.Sprintf(plainIndex, tc.backend), "s/step1.md": tc.step, "s/verify.sh": "true"})
		l, err := Convert(src, "s", Options{})
		var ref *RefusedError
		switch {
		case tc.refused != "":
			if !errors.As(err, &ref) || !strings.Contains(err.Error(), tc.refused) || !strings.Contains(err.Error(), "supported: ubuntu") {
				t.Errorf("%s: %v, want refused with %q", tc.backend, err, tc.refused)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.backend, err)
		default:
			y := string(l.Files["lab.yaml"])
			for i, n := range tc.nodes {
				if !strings.Contains(y, "- name: "+n+"\n") || !strings.Contains(y, "addresses: ["+hostAddrs[i]+"]") {
					t.Errorf("%s: no node %s at %s in\n%s", tc.backend, n, hostAddrs[i], y)
				}
			}
			if strings.Count(y, "- name: ") != len(tc.nodes) {
				t.Errorf("%s: want %d nodes in\n%s", tc.backend, len(tc.nodes), y)
			}
		}
	}
}

func TestConvertErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		opt   Options
		want  string
	}{
		{"no index", map[string]string{"s/step1.md": "x"}, Options{}, "s: no index.json"},
		{"bad json", map[string]string{"s/index.json": "{\n\"title\": \"x\",\n}"}, Options{}, "s/index.json: line 3: invalid character '}'"},
		{"wrong type", map[string]string{"s/index.json": "{\"title\": \"x\",\n\"details\": {\"steps\": {}}}"}, Options{}, "s/index.json: line 2: details.steps: want a list, found a JSON object"},
		{"missing text", map[string]string{"s/index.json": fmt.Sprintf(plainIndex, "ubuntu"), "s/verify.sh": "true"}, Options{}, "s/index.json: details.steps[0].text: file step1.md not found"},
		{"missing verify", map[string]string{"s/index.json": fmt.Sprintf(plainIndex, "ubuntu"), "s/step1.md": "x"}, Options{}, "details.steps[0].verify: file verify.sh not found"},
		{"leaves the folder", map[string]string{"s/index.json": `{"details": {"steps": [{"text": "../../etc/passwd"}]}, "backend": {"imageid": "ubuntu"}}`}, Options{}, `leaves the scenario's folder`},
		{"bad id", map[string]string{"s/index.json": fmt.Sprintf(plainIndex, "ubuntu"), "s/step1.md": "x", "s/verify.sh": "true"}, Options{ID: "Bad_ID"}, `lab id "Bad_ID"`},
		{"bad lang", map[string]string{"s/index.json": fmt.Sprintf(plainIndex, "ubuntu"), "s/step1.md": "x", "s/verify.sh": "true"}, Options{Lang: "fr"}, `language "fr"`},
		{"empty step", map[string]string{"s/index.json": `{"details": {"steps": [{"title": "x"}]}}`}, Options{}, "details.steps[0]: empty step"},
		{"asset without target", map[string]string{"s/index.json": `{"details": {"assets": {"host01": [{"file": "a"}]}}}`}, Options{}, "details.assets.host01[0]: missing target"},
	} {
		_, err := Convert(mapFS(tc.files), "s", tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestConvertIntroOnly: a scenario without steps (its intro is all) is a
// lab of one step that always passes.
func TestConvertIntroOnly(t *testing.T) {
	src := mapFS(map[string]string{
		"s/index.json": `{"title": "Only an intro", "details": {"intro": {"text": "intro.md", "background": "bg.sh"}}, "backend": {"imageid": "ubuntu"}}`,
		"s/intro.md":   "Look around.",
		"s/bg.sh":      "touch /tmp/x",
	})
	l, err := Convert(src, "s", Options{})
	if err != nil {
		t.Fatal(err)
	}
	y := string(l.Files["lab.yaml"])
	if l.Steps != 1 || l.Checks != 0 || !strings.Contains(y, `run: "true"`) || !strings.Contains(y, "scripts/intro-background.sh") {
		t.Errorf("%s\n%s", report(l), y)
	}
	if got := string(l.Files["steps/01-only-an-intro.en.md"]); !strings.Contains(got, "Look around.") {
		t.Errorf("step text %q", got)
	}
	// A #!/bin/bash line is added; the output goes to /var/log/killercoda.
	got := string(l.Files["scripts/intro-background.sh"])
	if !strings.HasPrefix(got, "#!/bin/bash\n") || !strings.HasSuffix(got, "\nexec >>/var/log/killercoda/intro-background.log 2>&1\ntouch /tmp/x\n") {
		t.Errorf("background script %q", got)
	}
	// Another interpreter's script is left as it is.
	src["s/bg.sh"] = &fstest.MapFile{Data: []byte("#!/usr/bin/env python3\nprint(1)\n")}
	if l, err = Convert(src, "s", Options{}); err != nil || string(l.Files["scripts/intro-background.sh"]) != "#!/usr/bin/env python3\nprint(1)\n" {
		t.Errorf("a python background script: %v %q", err, l.Files["scripts/intro-background.sh"])
	}
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "labs", "demo")
	l := &Lab{ID: "demo", Files: map[string][]byte{"lab.yaml": []byte("id: demo\n"), "scripts/a.sh": []byte("true\n")}}
	if err := l.Write(dir, false, nil); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(filepath.Join(dir, "scripts", "a.sh")); err != nil || info.Mode().Perm() != 0o755 {
		t.Fatalf("script: %v %v", info, err)
	}
	// Again, the same files: nothing to do, and nothing touched.
	if diff, err := l.Diff(dir); err != nil || diff != nil {
		t.Errorf("diff with the same files: %v %v", diff, err)
	}
	before, _ := os.Stat(filepath.Join(dir, "lab.yaml"))
	if err := l.Write(dir, false, func(string) error { return errors.New("checked again") }); err != nil {
		t.Errorf("again without force: %v", err)
	}
	if after, _ := os.Stat(filepath.Join(dir, "lab.yaml")); !os.SameFile(before, after) {
		t.Error("writing the same files again replaced them")
	}
	// An edited lab is not replaced without force; the message names the file.
	os.WriteFile(filepath.Join(dir, "scripts", "a.sh"), []byte("false\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine\n"), 0o644)
	if diff, _ := l.Diff(dir); strings.Join(diff, " ") != "notes.txt scripts/a.sh" {
		t.Errorf("diff after edits: %v", diff)
	}
	if err := l.Write(dir, false, nil); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "differs from this import in notes.txt, scripts/a.sh (--force replaces it)") {
		t.Errorf("again, edited, without force: %v", err)
	}
	// A lab that does not validate replaces nothing and leaves nothing.
	l2 := &Lab{ID: "demo", Files: map[string][]byte{"lab.yaml": []byte("id: other\n")}}
	err := l2.Write(dir, true, func(stage string) error { return fmt.Errorf("%s/lab.yaml:1: no good", stage) })
	if err == nil || err.Error() != "the imported lab does not validate: "+dir+"/lab.yaml:1: no good" {
		t.Errorf("failed check (named where the lab goes, not where it was staged): %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "lab.yaml")); string(data) != "id: demo\n" {
		t.Errorf("the earlier lab was touched: %q", data)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	if err := l2.Write(dir, true, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "scripts")); !os.IsNotExist(err) {
		t.Error("force kept files of the earlier lab")
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("left behind after force: %v", entries)
	}
}

// TestWriteNotLab: a folder that is not a lab is never replaced, not even
// with force (an --out naming a wrong folder); an empty one is filled.
func TestWriteNotLab(t *testing.T) {
	l := &Lab{ID: "demo", Files: map[string][]byte{"lab.yaml": []byte("id: demo\n")}}
	dir := filepath.Join(t.TempDir(), "demo")
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "precious"), []byte("keep\n"), 0o644)
	for _, force := range []bool{false, true} {
		if err := l.Write(dir, force, nil); !errors.Is(err, ErrNotLab) {
			t.Errorf("force %v: %v", force, err)
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, "sub", "precious")); err != nil || string(data) != "keep\n" {
		t.Errorf("the folder's file: %q %v", data, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	empty := filepath.Join(t.TempDir(), "demo")
	os.Mkdir(empty, 0o755)
	if err := l.Write(empty, false, nil); err != nil {
		t.Fatalf("an empty folder: %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(empty, "lab.yaml")); string(data) != "id: demo\n" {
		t.Errorf("lab.yaml in the empty folder: %q", data)
	}
}

func TestConvertPlaceholders(t *testing.T) {
	src := mapFS(map[string]string{
		"s/index.json": fmt.Sprintf(plainIndex, "ubuntu"),
		"s/step1.md":   "Open http://[[HOST_SUBDOMAIN]]-80-[[KATACODA_HOST]].environments.katacoda.com\n`ping -c1 [[HOST_IP]]`{{execute}}\n",
		"s/verify.sh":  "curl -s [[HOST2_IP]]:80 || curl -s [[HOST1_IP]]",
	})
	l, err := Convert(src, "s", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if text := string(l.Files["steps/01-one.en.md"]); !strings.Contains(text, "`ping -c1 172.30.1.2`{{execute}}") {
		t.Errorf("text:\n%s", text)
	}
	if check := string(l.Files["scripts/01-one-check.sh"]); !strings.Contains(check, "curl -s 172.30.2.2:80 || curl -s 172.30.1.2") {
		t.Errorf("check:\n%s", check)
	}
	if len(l.Warnings) != 1 || l.Warnings[0].String() != "s/step1.md:1: [[HOST_SUBDOMAIN]]: a Katacoda web address of a port; labs have none yet" {
		t.Errorf("warnings: %v", l.Warnings)
	}
}

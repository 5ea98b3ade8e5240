package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runImport(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"import", "killercoda"}, args...), func(string) string { return "" }, &out, &errb)
	return code, out.String(), errb.String()
}

// TestImportCommand: one scenario, a course, the report, --force, and
// labd validate accepting what was written.
func TestImportCommand(t *testing.T) {
	labs := filepath.Join(t.TempDir(), "labs")
	src := "internal/killercoda/testdata/scenarios/files-basics"
	code, out, errs := runImport(src, "--out", filepath.Join(labs, "files"))
	// The report names files as SRC was given, so they can be opened.
	if code != 0 || !strings.Contains(out, "3 steps, 3 checks, 3 assets, 2 warnings") ||
		!strings.Contains(out, "\n"+src+"/step3/text.md:10: needs the internet: apt-get install\n") ||
		!strings.Contains(out, "labd: imported "+src+" into ") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	data, err := os.ReadFile(filepath.Join(labs, "files", "lab.yaml"))
	if err != nil || !strings.Contains(string(data), "id: files\n") {
		t.Fatalf("the id follows --out: %v\n%s", err, data)
	}
	// Again: the same lab, so nothing to do.
	if code, out, errs := runImport(src, "--out", filepath.Join(labs, "files")); code != 0 || !strings.Contains(out, "files is up to date with "+src) {
		t.Errorf("again: exit %d %s%s", code, out, errs)
	}
	// Edited since: kept, unless --force.
	edited := filepath.Join(labs, "files", "steps", "01-make-a-folder.en.md")
	os.WriteFile(edited, []byte("mine\n"), 0o644)
	if code, _, errs := runImport(src, "--out", filepath.Join(labs, "files")); code != 1 ||
		!strings.Contains(errs, "exists and differs from this import in steps/01-make-a-folder.en.md (--force replaces it)") {
		t.Errorf("again, edited: exit %d %s", code, errs)
	}
	if data, _ := os.ReadFile(edited); string(data) != "mine\n" {
		t.Errorf("the edit was lost without --force: %q", data)
	}
	if code, _, errs := runImport("--force", src, "--out", filepath.Join(labs, "files")); code != 0 {
		t.Errorf("--force: exit %d %s", code, errs)
	}
	if data, _ := os.ReadFile(edited); string(data) == "mine\n" {
		t.Error("--force kept the edit")
	}
	// --force never replaces a folder that is not a lab: here the labs folder.
	if code, _, errs := runImport("--force", src, "--out", labs); code != 1 ||
		!strings.Contains(errs, "is not a lab folder (no lab.yaml); not replacing it; for one scenario --out names the lab's own folder, such as "+filepath.Join(labs, "files-basics")) {
		t.Errorf("--force --out labs: exit %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(labs, "files", "lab.yaml")); err != nil {
		t.Errorf("--force --out labs removed a lab: %v", err)
	}
	// A course: each of its scenarios, in its order.
	code, out, errs = runImport("internal/killercoda/testdata/course", "--out", labs)
	if code != 0 || strings.Index(out, "course/hello into") > strings.Index(out, "course/bye into") || !strings.Contains(out, "2 scenarios: 2 imported") {
		t.Fatalf("course: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := runImport("internal/killercoda/testdata/course", "--out", labs); code != 0 || !strings.Contains(out, "labd: 2 scenarios: 0 imported, 2 up to date, 0 refused, 0 failed\n") {
		t.Errorf("the course again: exit %d\n%s%s", code, out, errs)
	}
	var vout, verr bytes.Buffer
	if code := run(context.Background(), []string{"validate", "--certs", "", labs}, func(string) string { return "" }, &vout, &verr); code != 0 ||
		!strings.Contains(vout.String(), "3 labs ok") {
		t.Errorf("validate: exit %d\n%s%s", code, vout.String(), verr.String())
	}
	// A symlink out of the folder imported from is not followed.
	dir := filepath.Join(t.TempDir(), "s")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"details": {"steps": [{"text": "step1.md"}]}, "backend": {"imageid": "ubuntu"}}`), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(dir, "step1.md"))
	if code, _, errs := runImport(dir, "--out", filepath.Join(labs, "s")); code != 1 || !strings.Contains(errs, "file step1.md not found") {
		t.Errorf("a symlink out: exit %d %s", code, errs)
	}
	// SRC may name the scenario's index.json.
	if code, out, errs := runImport(src+"/index.json", "--out", filepath.Join(labs, "files")); code != 0 || !strings.Contains(out, "is up to date with "+src+"\n") {
		t.Errorf("SRC/index.json: exit %d %s%s", code, out, errs)
	}
	// Usage errors, told before anything is read or written.
	if code, _, errs := runImport(src, "--id", "one", "--out", filepath.Join(labs, "two")); code != 1 || !strings.Contains(errs, "a lab's folder is named as its id") {
		t.Errorf("--id and --out differ: exit %d %s", code, errs)
	}
	if code, _, errs := runImport(src, "--lang", "fr", "--out", filepath.Join(labs, "fr")); code != 1 || errs != "labd: --lang fr: want en or zh\n" {
		t.Errorf("--lang fr: exit %d %q", code, errs)
	}
	if code, _, _ := runImport(); code != 2 {
		t.Errorf("no SRC: exit %d", code)
	}
	if code, _, errs := runImport("internal/killercoda/testdata/course", "--id", "x"); code != 1 || !strings.Contains(errs, "--id names one lab") {
		t.Errorf("--id with a course: exit %d %s", code, errs)
	}
	if code, _, errs := runImport(t.TempDir()); code != 1 || !strings.Contains(errs, "no index.json, structure.json or scenario folders") {
		t.Errorf("an empty folder: exit %d %s", code, errs)
	}
}

// TestImportDefaultOut: without --out the lab goes to ./labs/ID, and only
// where there is a labs folder; a scenario outside a repository is named
// by its folder in lab.yaml, and its errors name its files.
func TestImportDefaultOut(t *testing.T) {
	src, _ := filepath.Abs("internal/killercoda/testdata/scenarios/processes")
	scen := filepath.Join(t.TempDir(), "mine")
	if err := os.CopyFS(scen, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Dir(scen))
	if code, _, errs := runImport("mine"); code != 1 || !strings.Contains(errs, "no labs folder here: run in the project's folder or give --out") {
		t.Errorf("no labs folder: exit %d %s", code, errs)
	}
	if _, err := os.Stat("labs"); !os.IsNotExist(err) {
		t.Errorf("a labs folder was made: %v", err)
	}
	os.Mkdir("labs", 0o755)
	code, out, errs := runImport("mine")
	if code != 0 || !strings.Contains(out, "\nlabd: imported mine into labs/mine in ") || !strings.HasPrefix(out, "mine/step2.md:14: needs systemd: systemctl\n") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	data, _ := os.ReadFile("labs/mine/lab.yaml")
	if first, _, _ := strings.Cut(string(data), "\n"); first != "# Imported from the Killercoda scenario mine (backend ubuntu-4GB) by labd import killercoda." {
		t.Errorf("lab.yaml's first line: %q", first)
	}
	os.WriteFile("mine/index.json", []byte(`{"details": {"steps": [{"text": "nope.md"}]}, "backend": {"imageid": "ubuntu"}}`), 0o644)
	if code, _, errs := runImport("mine", "--force"); code != 1 || errs != "labd: mine/index.json: details.steps[0].text: file nope.md not found\n" {
		t.Errorf("a missing file: exit %d %q", code, errs)
	}
}

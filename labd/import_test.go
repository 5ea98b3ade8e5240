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
	if code != 0 || !strings.Contains(out, "3 steps, 3 checks, 3 assets, 2 warnings") ||
		!strings.Contains(out, "files-basics/step3/text.md:10: needs the internet: apt-get install") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	data, err := os.ReadFile(filepath.Join(labs, "files", "lab.yaml"))
	if err != nil || !strings.Contains(string(data), "id: files\n") {
		t.Fatalf("the id follows --out: %v\n%s", err, data)
	}
	// Again: the lab exists; --force replaces it.
	if code, _, errs := runImport(src, "--out", filepath.Join(labs, "files")); code != 1 || !strings.Contains(errs, "exists (--force replaces it)") {
		t.Errorf("again: exit %d %s", code, errs)
	}
	if code, _, errs := runImport("--force", src, "--out", filepath.Join(labs, "files")); code != 0 {
		t.Errorf("--force: exit %d %s", code, errs)
	}
	// A course: each of its scenarios, in its order.
	code, out, errs = runImport("internal/killercoda/testdata/course", "--out", labs)
	if code != 0 || strings.Index(out, "course/hello into") > strings.Index(out, "course/bye into") || !strings.Contains(out, "2 scenarios: 2 imported") {
		t.Fatalf("course: exit %d\n%s%s", code, out, errs)
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
	// Usage errors.
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

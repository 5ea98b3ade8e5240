package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestKillercodaInBrowser: a scenario imported with `labd import
// killercoda` (files-basics: an intro foreground, a step with a background
// and a foreground script, an image, zh untranslated) is built into a site
// as make site builds one, and worked through in Chromium on Docker: the zh
// page says its texts are English and shows them, the lab's foreground is
// typed when the terminal opens, an {{exec}} button types its command, the
// scenario's verify fails before and passes after, and entering the next
// step runs its background and types its foreground.
func TestKillercodaInBrowser(t *testing.T) {
	needDocker(t)
	const id = "files-basics"
	imported := filepath.Join(t.TempDir(), id)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"import", "killercoda", "internal/killercoda/testdata/scenarios/" + id, "--out", imported},
		func(string) string { return "" }, &stdout, &stderr); code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	public, labsDir, out, err := buildLabSite(t, map[string]map[string]string{id: readTree(t, imported)})
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ctx := newBrowser(t)
	l := startLabd(t, t.TempDir(), instanceName(t), labsDir, "--site", public)

	// The English page: no notice, the texts as written.
	openLabPage(t, ctx, l, "/en/labs/"+id+"/")
	if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll(".notice.untranslated").length`)); n != 0 {
		t.Errorf("the en page has %d untranslated notices", n)
	}
	assertAccessibleNow(t, ctx, l.url+"/en/labs/"+id+"/", "a11y-killercoda-en")

	// The Chinese page: the notice, then the English steps marked as English.
	openLabPage(t, ctx, l, "/zh/labs/"+id+"/")
	if msg := get(t, ctx, chromedp.Evaluate[string](`document.querySelector(".notice.untranslated")?.textContent ?? ""`)); !strings.Contains(msg, "尚未译成中文") {
		t.Errorf("the zh page's notice: %q", msg)
	}
	text := get(t, ctx, chromedp.Text("#step-make-a-folder .step-text"))
	if !strings.Contains(text, "Make the folder /root/work") {
		t.Errorf("the zh page does not show the English step text; it shows:\n%s", text)
	}
	if lang := get(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#lab-title, #step-make-a-folder h3, #step-make-a-folder .step-text")].map(e => e.lang).join()`)); lang != "en,en,en" {
		t.Errorf("the English title, step title and text on the zh page have lang %q, want en each", lang)
	}
	// The scenario's image, copied beside the steps, is served with the page.
	status := get(t, ctx, chromedp.Evaluate[int](`fetch(document.querySelector("#step-make-a-folder img").src).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if status != 200 {
		t.Errorf("the step's image: HTTP %d", status)
	}

	startLab(t, ctx, "ubuntu")
	// The intro's foreground waits for the intro's background, then greets.
	waitTerminal(t, ctx, "ubuntu", "the intro's foreground", regexp.MustCompile(`(?m)^Welcome: the scenario is ready\s*$`))
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#step-make-a-folder[aria-current="step"]`)); err != nil {
		t.Fatal(err)
	}

	// The scenario's verify, with its FAIL: message, before the command ran.
	click(t, ctx, `#step-make-a-folder button.check`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#step-make-a-folder[data-passed="false"]`)); err != nil {
		t.Fatalf("the check before the command: %v", err)
	}
	if msg := get(t, ctx, chromedp.Text("#step-make-a-folder .step-check output")); !strings.Contains(msg, "/root/work does not exist yet") {
		t.Errorf("the failed check says %q", msg)
	}

	// The block closed with ```{{exec}} is a button.
	if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#step-make-a-folder button.exec").length`)); n != 1 {
		t.Fatalf("step 1 has %d exec buttons, want 1", n)
	}
	click(t, ctx, `#step-make-a-folder button.exec`)
	waitTerminal(t, ctx, "ubuntu", "the typed mkdir", regexp.MustCompile(`root@ubuntu:~# mkdir -p /root/work\s*\n.*root@ubuntu:~#`))
	click(t, ctx, `#step-make-a-folder button.check`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#step-make-a-folder[data-passed="true"]`)); err != nil {
		screenshot(t, ctx, "failed-killercoda-check")
		t.Fatalf("the step did not pass after its command ran: %v", err)
	}

	// The next step: its background left a seed, its foreground shows it.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#step-fill-a-file[aria-current="step"]`)); err != nil {
		t.Fatalf("the next step was not entered: %v", err)
	}
	waitTerminal(t, ctx, "ubuntu", "the step's foreground", regexp.MustCompile(`(?m)^seed\s*$`))
	click(t, ctx, `#step-fill-a-file button[data-exec="echo hello > /root/work/hello.txt"]`)
	waitTerminal(t, ctx, "ubuntu", "the typed echo", regexp.MustCompile(`# echo hello > /root/work/hello.txt\s*\n`))
	// count-lines is one of the scenario's assets, installed at setup.
	click(t, ctx, `#step-fill-a-file button[data-exec="count-lines /root/work/hello.txt"]`)
	waitTerminal(t, ctx, "ubuntu", "count-lines' output", regexp.MustCompile(`# count-lines /root/work/hello.txt\s*\n\s*1\b`))
	click(t, ctx, `#step-fill-a-file button.check`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#step-fill-a-file[data-passed="true"]`)); err != nil {
		screenshot(t, ctx, "failed-killercoda-check2")
		t.Fatalf("the second step did not pass: %v", err)
	}
	screenshot(t, ctx, "killercoda-exec")
	assertAccessibleNow(t, ctx, l.url+"/zh/labs/"+id+"/", "a11y-killercoda-zh")
}

// readTree reads a folder's files as buildLabSite takes them.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

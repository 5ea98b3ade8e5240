package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/xsky-academy/academy/labd/internal/auth"
)

// Step texts at work in Chromium on Docker: command buttons type into the
// terminals, opening a step runs its on_enter and types its foreground.

// openLabPage opens a lab page in ctx, signed in with a token.
func openLabPage(t *testing.T, ctx context.Context, l *labd, page string) {
	t.Helper()
	tok := l.token(t, "format-user", auth.Trainee)
	err := chromedp.Do(ctx,
		chromedp.Navigate(l.url+page),
		chromedp.WaitReady("#lab"),
		evaluate(`sessionStorage.setItem("labd.token", `+quoteJS(tok)+`)`),
		chromedp.Reload(),
		chromedp.WaitVisible("#start"),
	)
	if err != nil {
		t.Fatal(err)
	}
}

// startLab presses Start and waits for node's terminal to connect.
func startLab(t *testing.T, ctx context.Context, node string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Click("#start"),
		chromedp.WaitVisible(`#pane-`+node+`[data-state="connected"]`),
	)
	if err != nil {
		screenshot(t, ctx, "failed-format-start")
		t.Fatal(err)
	}
}

func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(sel)); err != nil {
		screenshot(t, ctx, "failed-format-click")
		t.Fatalf("click %s: %v", sel, err)
	}
}

// TestFormatExecInBrowser: linux-basics' first step has {{exec}} blocks; their
// buttons (by mouse and by keyboard) type the commands into node1's shell,
// and the step's check then passes.
func TestFormatExecInBrowser(t *testing.T) {
	needDocker(t)
	ctx := newBrowser(t)
	if _, err := os.Stat("../site/public/en/labs/linux-basics/index.html"); err != nil {
		t.Fatal("the site is not built: run make site (make test does)")
	}
	l := startLabd(t, t.TempDir(), instanceName(t), "../labs", "--site", "../site/public")
	openLabPage(t, ctx, l, "/en/labs/linux-basics/")
	first := `#step-make-notes .step-text > ol > li:nth-child(1) button.exec`
	second := `#step-make-notes .step-text > ol > li:nth-child(2) button.exec`

	// Before the lab runs, a command has nowhere to go: the page says so.
	click(t, ctx, first)
	if msg := get(t, ctx, chromedp.Text("#status")); !strings.Contains(msg, "Start the lab first") {
		t.Errorf("status before the lab runs: %q", msg)
	}
	startLab(t, ctx, "node1")
	waitTerminal(t, ctx, "node1", "a prompt", regexp.MustCompile(`root@node1:~[#$]`))
	// The page entered the first step.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#step-make-notes[aria-current="step"]`)); err != nil {
		t.Fatal(err)
	}

	click(t, ctx, first)
	waitTerminal(t, ctx, "node1", "the typed mkdir", regexp.MustCompile(`root@node1:~# mkdir -p /root/work\s*\n.*root@node1:~#`))
	// The second by keyboard: focus the button, press Enter.
	err := chromedp.Do(ctx, chromedp.Focus(second), chromedp.KeyEvent(kb.Enter))
	if err != nil {
		t.Fatal(err)
	}
	// The output of the typed cat, on its own line.
	waitTerminal(t, ctx, "node1", "the notes file", regexp.MustCompile(`(?m)^Day 1: storage cluster health check notes\s*$`))

	click(t, ctx, `#step-make-notes button.check`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#step-make-notes[data-passed="true"]`)); err != nil {
		screenshot(t, ctx, "failed-format-check")
		t.Fatalf("the step did not pass after its commands ran: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#step-health-script[aria-current="step"]`)); err != nil {
		t.Errorf("the next step was not entered: %v", err)
	}
	screenshot(t, ctx, "format-exec")
	assertAccessibleNow(t, ctx, l.url+"/en/labs/linux-basics/", "a11y-lab-exec")
}

// TestFormatStepEnterInBrowser: a lab (built for the test) whose lab-level
// foreground is typed when its terminal opens; whose second step, entered
// when the first passes, runs its on_enter and types its foreground;
// {{execute T2}} goes to the second terminal, {{exec interrupt}} sends
// Ctrl-C first.
func TestFormatStepEnterInBrowser(t *testing.T) {
	needDocker(t)
	public, labsDir, out, err := buildLabSite(t, map[string]map[string]string{"fmt-demo": fmtLab})
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ctx := newBrowser(t)
	l := startLabd(t, t.TempDir(), instanceName(t), labsDir, "--site", public)
	openLabPage(t, ctx, l, "/zh/labs/fmt-demo/")
	startLab(t, ctx, "node1")
	waitTerminal(t, ctx, "node1", "the lab's foreground", regexp.MustCompile(`(?m)^lab-fg-42\s*$`))

	click(t, ctx, `#step-first .runnable button.exec`)
	waitTerminal(t, ctx, "node1", "the block's output", regexp.MustCompile(`(?m)^exec-21\s*$`))
	click(t, ctx, `#step-first button[data-exec="hostname"]`)
	waitTerminal(t, ctx, "node3", "hostname on the second terminal", regexp.MustCompile(`(?m)^node3\s*$`))

	click(t, ctx, `#step-first button.check`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#step-first[data-passed="true"]`)); err != nil {
		t.Fatalf("the first step did not pass: %v", err)
	}
	// Entering the second step: on_enter wrote the file, the foreground cats it.
	waitTerminal(t, ctx, "node1", "the second step's foreground", regexp.MustCompile(`(?m)^on-enter-ran\s*$`))

	click(t, ctx, `#step-second button[data-exec="sleep 600"]`)
	waitTerminal(t, ctx, "node1", "the sleep", regexp.MustCompile(`# sleep 600\s*$`))
	click(t, ctx, `#step-second button[data-interrupt]`)
	waitTerminal(t, ctx, "node1", "the command after Ctrl-C", regexp.MustCompile(`(?m)^after-2\s*$`))
	screenshot(t, ctx, "format-enter")
	assertAccessibleNow(t, ctx, l.url+"/zh/labs/fmt-demo/", "a11y-lab-untranslated")
}

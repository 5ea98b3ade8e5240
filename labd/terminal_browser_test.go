package main

import (
	"os"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/xsky-academy/academy/labd/internal/auth"
)

// TestTerminalRestartInBrowser: a shell that stops reading its terminal is
// flooded from the lab page until it takes no more input; the page says the
// terminal is stalled, and "Restart terminal" gives a new shell that answers.
func TestTerminalRestartInBrowser(t *testing.T) {
	needDocker(t)
	ctx := newBrowser(t)
	if _, err := os.Stat("../site/public/en/labs/linux-basics/index.html"); err != nil {
		t.Fatal("the site is not built: run make site (make test does)")
	}
	l := startLabd(t, t.TempDir(), instanceName(t), "../labs", "--site", "../site/public")
	tok := l.token(t, "browser-user", auth.Trainee)
	fail := func(what string, err error) {
		t.Helper()
		if err != nil {
			screenshot(t, ctx, "failed-restart-"+what)
			t.Fatalf("%s: %v", what, err)
		}
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(l.url+"/en/labs/linux-basics/"),
		chromedp.WaitReady("#lab"),
		evaluate(`sessionStorage.setItem("labd.token", `+quoteJS(tok)+`)`),
		chromedp.Reload(),
		chromedp.WaitVisible("#start"),
		chromedp.Click("#start"),
		chromedp.WaitVisible(`#pane-node1[data-state="connected"]`),
		chromedp.WaitVisible("#restart-terminal"),
	)
	fail("start", err)
	waitTerminal(t, ctx, "node1", "a prompt", regexp.MustCompile(`root@node1:~[#$]`))
	err = chromedp.Do(ctx,
		chromedp.Click(`#pane-node1 .xterm`),
		typeInto(`#pane-node1 .xterm-helper-textarea`, `stty raw -echo; echo no""body-reads; sleep 600`+"\n"),
	)
	fail("type", err)
	waitTerminal(t, ctx, "node1", "the sleep", regexp.MustCompile(`nobody-reads`))
	// A paste far larger than the terminal, Docker and labd's queue hold.
	err = chromedp.Do(ctx,
		evaluate(`(() => { const tty = window.academyLab.ttys.node1.tty;
			const f = new Uint8Array(60001); f.fill(120); f[0] = 105;
			for (let i = 0; i < 100; i++) tty.send(f); })()`),
		chromedp.WaitVisible(`#pane-node1[data-state="stalled"]`),
	)
	fail("stall", err)
	screenshot(t, ctx, "lab-terminal-stalled")
	err = chromedp.Do(ctx,
		evaluate(`window.confirm = () => true`), // the restart asks first; the trainee agrees
		chromedp.Click("#restart-terminal"),
		chromedp.WaitVisible(`#pane-node1[data-state="connected"]`),
	)
	fail("restart", err)
	waitTerminal(t, ctx, "node1", "a new prompt", regexp.MustCompile(`root@node1:~[#$]`))
	err = chromedp.Do(ctx,
		chromedp.Click(`#pane-node1 .xterm`),
		typeInto(`#pane-node1 .xterm-helper-textarea`, `echo re""started-ok`+"\n"),
	)
	fail("type after the restart", err)
	waitTerminal(t, ctx, "node1", "the new shell's answer", regexp.MustCompile(`(?m)^restarted-ok\s*$`))
	assertAccessibleNow(t, ctx, l.url+"/en/labs/linux-basics/", "a11y-lab-restarted")
}

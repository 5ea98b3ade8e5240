package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/xsky-academy/academy/labd/internal/auth"
)

// screenshotDir collects the browser tests' screenshots (git ignores it).
const screenshotDir = "../test-output/screenshots"

// newBrowser starts Debian's Chromium headless; make test installs it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test (run without -short)")
	}
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run make test, or apt-get install chromium")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel3)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100) /* 100: PNG */)
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	os.MkdirAll(screenshotDir, 0o755)
	path := filepath.Join(screenshotDir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("screenshot: %s", path)
}

// terminalText is what xterm.js shows in a node's pane, row by row.
func terminalText(ctx context.Context, node string) (string, error) {
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#pane-`+node+` .xterm-rows > div")).map(r => r.textContent)`))
	return strings.Join(rows, "\n"), err
}

func waitTerminal(t *testing.T, ctx context.Context, node, what string, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		text, err := terminalText(ctx, node)
		if err == nil && re.MatchString(text) {
			return text
		}
		if time.Now().After(deadline) {
			screenshot(t, ctx, "failed-"+strings.ReplaceAll(what, " ", "-"))
			t.Fatalf("the terminal never showed %s; it shows:\n%s", what, text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestLabPageInBrowser: the lab page starts a lab session, shows a shell,
// takes typed input, survives a dropped connection and checks a step.
func TestLabPageInBrowser(t *testing.T) {
	needDocker(t)
	ctx := newBrowser(t)
	if _, err := os.Stat("../site/public/zh/labs/linux-basics/index.html"); err != nil {
		t.Fatal("the site is not built: run make site (make test does)")
	}
	l := startLabd(t, t.TempDir(), instanceName(t), "../labs", "--site", "../site/public")
	tok := l.token(t, "browser-user", auth.Trainee)

	err := chromedp.Do(ctx,
		chromedp.Navigate(l.url+"/zh/labs/linux-basics/"),
		chromedp.WaitReady("#lab"),
		evaluate(`sessionStorage.setItem("labd.token", `+quoteJS(tok)+`)`),
		chromedp.Reload(),
		chromedp.WaitVisible("#start"),
		chromedp.Click("#start"),
		chromedp.WaitVisible(`#pane-node1 .xterm-rows`),
		chromedp.WaitVisible(`#pane-node1[data-state="connected"]`),
	)
	if err != nil {
		screenshot(t, ctx, "failed-start")
		t.Fatal(err)
	}
	waitTerminal(t, ctx, "node1", "a prompt", regexp.MustCompile(`root@node1:~[#$]`))

	err = chromedp.Do(ctx,
		chromedp.Click(`#pane-node1 .xterm`),
		typeInto(`#pane-node1 .xterm-helper-textarea`, `echo hel""lo-from-chromium`+"\n"),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitTerminal(t, ctx, "node1", "the echo", regexp.MustCompile(`(?m)^hello-from-chromium\s*$`))
	screenshot(t, ctx, "lab-terminal")

	// The network drops: the page reconnects and resumes; the shell is the same one.
	err = chromedp.Do(ctx,
		typeInto(`#pane-node1 .xterm-helper-textarea`, `X=kept`+"\n"),
		evaluate(`window.academyLab.ttys.node1.tty.drop()`),
		chromedp.WaitVisible(`#pane-node1[data-state="connected"]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	chromedp.Do(ctx, typeInto(`#pane-node1 .xterm-helper-textarea`, `echo "value-$X"`+"\n"))
	waitTerminal(t, ctx, "node1", "the same shell after reconnecting", regexp.MustCompile(`(?m)^value-kept\s*$`))

	// A step's check from the page.
	err = chromedp.Do(ctx,
		chromedp.Click(`#step-make-notes button.check`),
		chromedp.WaitVisible(`#step-make-notes[data-passed]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	out, err := chromedp.Run(ctx, chromedp.Text(`#step-make-notes output`))
	if err != nil {
		t.Fatal(err)
	}
	// In the page's language (issue 11: it was English on /zh/).
	if !strings.Contains(out, "目录 /root/work 还不存在") {
		t.Errorf("check output %q, want the FAIL message in Chinese", out)
	}
	chromedp.Do(ctx, typeInto(`#pane-node1 .xterm-helper-textarea`,
		`mkdir -p /root/work && echo storage > /root/work/notes.txt`+"\n"))
	time.Sleep(300 * time.Millisecond)
	err = chromedp.Do(ctx,
		chromedp.Click(`#step-make-notes button.check`),
		chromedp.WaitVisible(`#step-make-notes[data-passed="true"]`),
	)
	if err != nil {
		screenshot(t, ctx, "failed-check")
		t.Fatalf("the step did not pass: %v", err)
	}
	screenshot(t, ctx, "lab-step-passed")

	// The page with a live terminal passes the same accessibility rules.
	assertAccessibleNow(t, ctx, l.url+"/zh/labs/linux-basics/", "a11y-lab-running")
}

// typeInto types text into the focused element as a person would: text
// arrives as text input (chromedp's per-key events reach xterm.js twice),
// "\n" as a press of Enter.
func typeInto(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := chromedp.Focus(sel)(ctx, t); err != nil {
			return err
		}
		for i, line := range strings.Split(text, "\n") {
			if i > 0 {
				for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
					if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
						Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
					}); err != nil {
						return err
					}
				}
			}
			if line != "" {
				if _, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: line}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// evaluate runs JavaScript for its effect.
func evaluate(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool]("("+js+", true)")(ctx, t)
		return err
	})
}

func quoteJS(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
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
	return watchConsole(t, ctx)
}

// newTab opens a tab in a browser context of its own (a cold cache, no
// cookies or storage), watched as newBrowser's tab is. closeTab reports what
// its console logged and closes it; the test's end does, else.
func newTab(t *testing.T, ctx context.Context) (tab context.Context, closeTab func()) {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil {
		cancel()
		t.Fatalf("open a tab: %v", err)
	}
	tab = watchConsole(t, tab)
	var once sync.Once
	closeTab = func() {
		once.Do(func() {
			tab.Value(consoleKey{}).(*consoleWatch).stop(tab)
			cancel()
		})
	}
	t.Cleanup(closeTab)
	return tab, closeTab
}

// consoleWatch fails the test on what a page reports as broken: a call of
// console.error, an uncaught exception or promise rejection, and the
// browser's log entries of level error (a failed request, a favicon's 404
// included; an input's pattern that does not compile). A test that provokes
// one on purpose says so with allowConsole.
type consoleWatch struct {
	t     *testing.T
	mu    sync.Mutex
	done  bool
	allow []*regexp.Regexp
	seen  chan string // stop's flush markers
}

const flushMarker = "consoleWatch-flush-"

type consoleKey struct{}

func watchConsole(t *testing.T, ctx context.Context) context.Context {
	w := &consoleWatch{t: t, seen: make(chan string, 1)}
	msgs := chromedp.Console(ctx) // subscribed now: nothing from here on is lost
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleException:
				w.report(m)
			case chromedp.ConsoleDebug:
				if strings.HasPrefix(m.Text, flushMarker) {
					w.seen <- m.Text
				}
			}
		}
	}()
	t.Cleanup(func() { w.stop(ctx) }) // a second stop does nothing
	return context.WithValue(ctx, consoleKey{}, w)
}

func (w *consoleWatch) report(m chromedp.ConsoleMessage) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done || apiRefusal(m) || serverGone(m) {
		return
	}
	where := m.URL
	if m.Line > 0 {
		where += ":" + strconv.FormatInt(m.Line+1, 10)
	}
	msg := m.String()
	if where != "" {
		msg += " (" + where + ")"
	}
	for _, re := range w.allow {
		if re.MatchString(msg) {
			return
		}
	}
	w.t.Errorf("the browser's console: %s", msg)
}

// apiRefusal says whether m is the browser's note of a 4xx from labd's API:
// a JSON error the page handles (a wrong password, signed out, no programs
// configured), part of the API's contract. Any other failed request (a
// page, a script, a favicon, a 5xx) is an error.
var apiStatus4xx = regexp.MustCompile(`^Failed to load resource: the server responded with a status of 4\d\d\b`)

func apiRefusal(m chromedp.ConsoleMessage) bool {
	u, err := url.Parse(m.URL)
	return m.Source == "network" && err == nil && strings.HasPrefix(u.Path, "/api/") && apiStatus4xx.MatchString(m.Text)
}

// serverGone says whether m is a request refused because the test's labd
// has stopped: the console is read after the test's servers shut down (its
// cleanup was registered first), while a page may still poll, as the
// lecturer console does every 5 s. A labd that dies mid-test fails the
// test's own calls.
func serverGone(m chromedp.ConsoleMessage) bool {
	return m.Source == "network" && strings.Contains(m.Text, "net::ERR_CONNECTION_REFUSED")
}

// stop reports what the page logged up to now: a marker logged last comes
// through the same ordered stream after everything before it.
func (w *consoleWatch) stop(ctx context.Context) {
	w.mu.Lock()
	done := w.done
	w.mu.Unlock()
	if done {
		return
	}
	marker := flushMarker + strconv.FormatInt(time.Now().UnixNano(), 36)
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(fctx, chromedp.Evaluate[bool](`console.debug(`+quoteJS(marker)+`), true`)); err == nil {
		for waiting := true; waiting; {
			select {
			case text := <-w.seen:
				waiting = text != marker
			case <-fctx.Done():
				waiting = false
			}
		}
	}
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

// allowConsole lets the tab of ctx log errors that match re, matched
// against "type: text (url)": a test that provokes them on purpose (a
// request that must fail, say) names them.
func allowConsole(ctx context.Context, re *regexp.Regexp) {
	w := ctx.Value(consoleKey{}).(*consoleWatch)
	w.mu.Lock()
	w.allow = append(w.allow, re)
	w.mu.Unlock()
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

package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/xsky-academy/academy/labd/internal/auth"
)

// TestLabPageQueuedInBrowser: with every environment in use, the lab page
// shows the trainee's place in line and an estimate, and starts the lab by
// itself when the place frees.
func TestLabPageQueuedInBrowser(t *testing.T) {
	needDocker(t)
	ctx := newBrowser(t)
	if _, err := os.Stat("../site/public/zh/labs/linux-basics/index.html"); err != nil {
		t.Fatal("the site is not built: run make site (make test does)")
	}
	l := startLabd(t, t.TempDir(), instanceName(t), "../labs", "--site", "../site/public", "--max-sessions", "1")
	other := l.token(t, "first-in", auth.Trainee)
	taken := l.readySession(t, other, "linux-basics")
	tok := l.token(t, "browser-user", auth.Trainee)

	err := chromedp.Do(ctx,
		chromedp.Navigate(l.url+"/zh/labs/linux-basics/"),
		chromedp.WaitReady("#lab"),
		evaluate(`sessionStorage.setItem("labd.token", `+quoteJS(tok)+`)`),
		chromedp.Reload(),
		chromedp.WaitVisible("#start"),
		chromedp.Click("#start"),
	)
	if err != nil {
		t.Fatal(err)
	}
	var status string
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(status, "第 1 位"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			screenshot(t, ctx, "failed-queued")
			t.Fatalf("the page never showed its place in line; status %q", status)
		}
		status, _ = chromedp.Run(ctx, chromedp.Text("#status"))
	}
	if !strings.Contains(status, "分钟") {
		t.Errorf("no estimate in %q", status)
	}
	// The trainee may leave the line from the page.
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#end")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "lab-queued")
	// The place frees: the page starts the lab by itself.
	if code := l.call(t, "DELETE", "/api/sessions/"+taken.ID, other, nil, nil); code != 204 {
		t.Fatalf("end the other session: %d", code)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#pane-node1[data-state="connected"]`)); err != nil {
		screenshot(t, ctx, "failed-queued-start")
		t.Fatal(err)
	}
}

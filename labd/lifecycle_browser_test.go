package main

import (
	"bytes"
	"context"
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

// TestEndClassInBrowser: the lecturer console's End class button ends an
// open class now.
func TestEndClassInBrowser(t *testing.T) {
	needDocker(t)
	ctx := newBrowser(t)
	if _, err := os.Stat("../site/public/en/lecturer/index.html"); err != nil {
		t.Fatal("the site is not built: run make site (make test does)")
	}
	data := t.TempDir()
	var out bytes.Buffer
	err := userCmd(context.Background(), []string{"add", "--email", "lee@example.com", "--name", "Lee", "--role", "lecturer", "--password-stdin"},
		func(k string) string {
			if k == "LABD_DATA" {
				return data
			}
			return ""
		}, strings.NewReader("lee's long password\n"), &out, &out)
	if err != nil {
		t.Fatalf("user add: %v %s", err, out.String())
	}
	l := startLabd(t, data, instanceName(t), "../labs", "--site", "../site/public")
	err = chromedp.Do(ctx,
		chromedp.Navigate(l.url+"/en/login/?next=%2Fen%2Flecturer%2F"),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "lee@example.com"),
		chromedp.SendKeys("#password", "lee's long password"),
		chromedp.Click(`#login-form button[type=submit]`),
		chromedp.WaitVisible("#classes-section"),
	)
	if err != nil {
		t.Fatal(err)
	}
	leeID, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("/api/me").then(r => r.json()).then(j => j.user.id)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	lee := l.token(t, leeID, auth.Lecturer)
	now := time.Now().UTC()
	var c struct {
		ID  string
		End time.Time
	}
	if code := l.call(t, "POST", "/api/classes", lee, map[string]any{"title": "Week 49", "course": "linux",
		"labs": []string{"linux-basics"}, "start": now, "end": now.Add(2 * time.Hour), "capacity": 5}, &c); code != 201 {
		t.Fatalf("create class: %d", code)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(l.url+"/en/lecturer/#"+c.ID),
		chromedp.WaitVisible("#end-class"),
		evaluate(`window.confirm = () => true`),
		chromedp.Click("#end-class"),
		chromedp.WaitNotVisible("#end-class"),
	)
	if err != nil {
		screenshot(t, ctx, "failed-end-class")
		t.Fatal(err)
	}
	l.call(t, "GET", "/api/classes/"+c.ID, lee, nil, &c)
	if c.End.After(time.Now()) {
		t.Errorf("the class still ends at %s", c.End)
	}
}

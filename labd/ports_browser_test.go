package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/xsky-academy/academy/labd/internal/auth"
)

// frameText waits for a target (an iframe on its own origin, a window)
// whose URL matches re and returns its body's text once it holds want.
func frameText(t *testing.T, ctx context.Context, re *regexp.Regexp, want string) (string, string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var last string
	for time.Now().Before(deadline) {
		infos, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range infos {
			if !re.MatchString(in.URL) || (in.Type != "iframe" && in.Type != "page") {
				continue
			}
			fctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(in.TargetID))
			tctx, cancel2 := context.WithTimeout(fctx, 10*time.Second)
			text, err := chromedp.Run(tctx, chromedp.Text("body"))
			cancel2()
			// Cancelling an attached context would close its target.
			_ = cancel
			if err == nil && strings.Contains(text, want) {
				return text, in.URL
			}
			last = text
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no frame or window at %s shows %q (last: %q)", re, want, last)
	return "", ""
}

// TestLabPortsInBrowser: the lab page offers a node's web port as a tab
// beside the terminal; the tab shows the node's page through labd on the
// port's own origin, so does a new window, and another user's browser
// cannot open it.
func TestLabPortsInBrowser(t *testing.T) {
	needDocker(t)
	ctx := newBrowser(t)
	if _, err := os.Stat("../site/public/en/labs/linux-basics/index.html"); err != nil {
		t.Fatal("the site is not built: run make site (make test does)")
	}
	// The lab page of linux-basics, served by a labd whose linux-basics is
	// the web lab: the page is the same for every lab.
	l := startLabd(t, t.TempDir(), instanceName(t), webLab(t, "linux-basics"), "--site", "../site/public")
	tok := l.token(t, "alice", auth.Trainee)
	err := chromedp.Do(ctx,
		chromedp.Navigate(l.url+"/en/labs/linux-basics/"),
		chromedp.WaitReady("#lab"),
		evaluate(`sessionStorage.setItem("labd.token", `+quoteJS(tok)+`)`),
		chromedp.Reload(),
		chromedp.WaitVisible("#start"),
		chromedp.Click("#start"),
		chromedp.WaitVisible(`#tab-port-node1-site`),
		chromedp.Click(`#tab-port-node1-site`),
		chromedp.WaitVisible(`#pane-port-node1-site iframe`),
	)
	if err != nil {
		screenshot(t, ctx, "failed-ports")
		t.Fatal(err)
	}
	onPort := regexp.MustCompile(`^http://p8080-node1-[a-z2-7]{26}\.labs\.localhost:\d+/`)
	_, frameURL := frameText(t, ctx, onPort, "hello from node1")
	if !strings.HasSuffix(frameURL, "/index.html") {
		t.Errorf("the frame is at %s, want the port's path /index.html", frameURL)
	}
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("pane-node1").hidden`))
	if err != nil || !hidden {
		t.Errorf("the terminal's pane is still shown beside the port's: %v", err)
	}
	screenshot(t, ctx, "lab-port-tab")

	// Open in a new window: a page of its own on the port's origin.
	if err := chromedp.Do(ctx, chromedp.Click(`#pane-port-node1-site .port-open`)); err != nil {
		t.Fatal(err)
	}
	frameText(t, ctx, onPort, "hello from node1")

	// Another user's browser (its own cookies) gets nothing from the origin.
	bob, _ := newTab(t, ctx)
	allowConsole(bob, regexp.MustCompile(`status of 404`))
	origin := onPort.FindString(frameURL)
	err = chromedp.Do(bob, chromedp.Navigate(origin+"index.html"), chromedp.WaitReady("body"))
	if err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(bob, chromedp.Text("body"))
	if err != nil || strings.Contains(text, "hello from node1") || !strings.Contains(text, "not open here") {
		t.Fatalf("another browser on alice's port: %q %v", text, err)
	}
	_ = target.ID("")
}

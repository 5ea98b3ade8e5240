package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/terminal"
)

// TestLecturerConsoleInBrowser: a lecturer signs in, creates a class in the console,
// imports a roster (a bad line first: shown by number, nothing imported),
// sees a trainee's progress in a real lab on Docker update live, and
// observes the trainee's terminal read-only.
func TestLecturerConsoleInBrowser(t *testing.T) {
	needDocker(t)
	ctx := newBrowser(t)
	if _, err := os.Stat("../site/public/en/lecturer/index.html"); err != nil {
		t.Fatal("the site is not built: run make site (make test does)")
	}
	data := t.TempDir()
	var out bytes.Buffer
	err := userCmd(context.Background(), []string{"add", "--email", "lena@example.com", "--name", "Lena Li", "--role", "lecturer", "--password-stdin"},
		func(k string) string {
			if k == "LABD_DATA" {
				return data
			}
			return ""
		}, strings.NewReader("lena's long password\n"), &out, &out)
	if err != nil {
		t.Fatalf("user add: %v %s", err, out.String())
	}
	l := startLabd(t, data, instanceName(t), "../labs", "--site", "../site/public", "--certs", "../certs")

	fail := func(what string, err error) {
		t.Helper()
		if err != nil {
			screenshot(t, ctx, "failed-lecturer-"+what)
			t.Fatalf("%s: %v", what, err)
		}
	}
	// Lena signs in (a cookie, and the CSRF header on every change) and
	// creates the class with the console's form.
	err = chromedp.Do(ctx,
		chromedp.Navigate(l.url+"/en/login/?next=%2Fen%2Flecturer%2F"),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "lena@example.com"),
		chromedp.SendKeys("#password", "lena's long password"),
		chromedp.Click(`#login-form button[type=submit]`),
		chromedp.WaitVisible("#classes-section"),
		evaluate(`document.getElementById("new-class").open = true`),
		chromedp.WaitVisible("#c-lab-ceph-health"),
	)
	fail("sign in", err)
	// The course's lessons' labs come ticked.
	ticked, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#c-labs input:checked"), c => c.value).sort().join(",")`))
	fail("ticked labs", err)
	if !strings.Contains(ticked, "ceph-health") || !strings.Contains(ticked, "linux-basics") {
		t.Errorf("the course's labs ticked: %q", ticked)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys("#c-title", "Ceph ops, week 48"),
		// Keep one lab. The class starts
		// tomorrow, so no warm pool fills during the test.
		evaluate(`document.querySelectorAll("#c-labs input").forEach(cb => cb.checked = cb.value === "linux-basics")`),
		evaluate(`(() => { const d = new Date(Date.now() + 86400e3); d.setHours(9, 0, 0, 0);
			const p = (n) => String(n).padStart(2, "0"), f = (d) => d.getFullYear() + "-" + p(d.getMonth()+1) + "-" + p(d.getDate()) + "T" + p(d.getHours()) + ":00";
			document.getElementById("c-start").value = f(d); d.setHours(17); document.getElementById("c-end").value = f(d); })()`),
		chromedp.Click(`#create-form button[type="submit"]`),
		chromedp.WaitVisible("#class"),
		chromedp.WaitVisible(`#classes li[aria-current="true"]`),
	)
	fail("create a class", err)
	classID, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash.slice(1)`))
	fail("class id", err)
	lenaID, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("/api/me").then(r => r.json()).then(j => j.user.id)`, chromedp.EvalAwaitPromise))
	fail("lena's id", err)
	lena := l.token(t, lenaID, auth.Lecturer) // for the test's own API calls
	var created struct {
		Labs       []string
		Start, End time.Time
	}
	l.call(t, "GET", "/api/classes/"+classID, lena, nil, &created)
	if len(created.Labs) != 1 || created.Labs[0] != "linux-basics" || created.Start.Before(time.Now()) || created.End.Sub(created.Start) != 8*time.Hour {
		t.Fatalf("the form made the class %+v", created)
	}

	// A roster file with a bad line: the line is named, nothing is imported.
	csv := filepath.Join(t.TempDir(), "roster.csv")
	if err := os.WriteFile(csv, []byte("name,email\nAda Lovelace,ada@example.com\nBob,bob-at-example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.SetUploadFiles("#roster-file", []string{csv}),
		chromedp.Click(`#roster-form button[type="submit"]`),
		chromedp.WaitVisible("#roster-errors"),
	)
	fail("import a bad roster", err)
	bad, err := chromedp.Run(ctx, chromedp.Text(`#roster-errors li[data-line="3"]`))
	fail("the bad line", err)
	if !strings.Contains(bad, "3") || !strings.Contains(bad, "email") {
		t.Errorf("the bad line reads %q", bad)
	}
	var roster []struct{ Name, Email, User string }
	l.call(t, "GET", "/api/classes/"+classID+"/roster", lena, nil, &roster)
	if len(roster) != 0 {
		t.Fatalf("a refused roster left %d trainees", len(roster))
	}
	err = chromedp.Do(ctx,
		evaluate(`document.getElementById("roster-file").value = ""`),
		chromedp.SendKeys("#roster-csv", "name,email\nAda Lovelace,ada@example.com\nBob Byte,bob@example.com\n"),
		chromedp.Click(`#roster-form button[type="submit"]`),
		chromedp.WaitVisible("#invitations"),
		chromedp.WaitVisible(`#progress tbody tr[data-trainee="bob@example.com"]`),
	)
	fail("import the roster", err)
	// Ada signs up with the link the console lists for her.
	link, err := chromedp.Run(ctx, chromedp.Text(`#invitations li[data-email="ada@example.com"] code`))
	fail("ada's invitation link", err)
	secret, ok := strings.CutPrefix(link, l.url+"/en/invite/#")
	if !ok || secret == "" {
		t.Fatalf("ada's invitation link %q", link)
	}
	if code := l.call(t, "POST", "/api/invitations/accept", "", map[string]string{"token": secret, "password": "ada's long password"}, nil); code >= 300 {
		t.Fatalf("accept the invitation: %d", code)
	}
	l.call(t, "GET", "/api/classes/"+classID+"/roster", lena, nil, &roster)
	if len(roster) != 2 || roster[0].User == "" || roster[1].User == "" {
		t.Fatalf("roster %+v", roster)
	}

	// Ada starts the class's lab and types.
	ada := l.token(t, roster[0].User, auth.Trainee)
	s := l.readySession(t, ada, "linux-basics")
	t.Cleanup(func() { l.call(t, "DELETE", "/api/sessions/"+s.ID, ada, nil, nil) })
	var tk struct{ Ticket, Role string }
	if code := l.call(t, "POST", "/api/sessions/"+s.ID+"/nodes/node1/ticket", ada, nil, &tk); code != 201 || tk.Role != "writer" {
		t.Fatalf("ada's ticket: %d %+v", code, tk)
	}
	wsURL := "ws" + strings.TrimPrefix(l.url, "http") + "/api/sessions/" + s.ID + "/nodes/node1/terminal"
	w, _, err := terminal.Dial(context.Background(), wsURL, tk.Ticket, http.Header{"Origin": {l.url}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	go func() { // keep reading, as a browser would
		for {
			if _, err := w.Read(); err != nil {
				return
			}
		}
	}()
	w.Send(terminal.Input([]byte("echo before-$((6*7))\n")))

	// The console shows her working, with no step passed yet; she can be observed.
	adaRow := `#progress tbody tr[data-trainee="ada@example.com"][data-lab="linux-basics"]`
	err = chromedp.Do(ctx, chromedp.WaitVisible(adaRow+` button[data-key="observe:`+s.ID+`:node1"]`))
	fail("ada working", err)
	steps, err := chromedp.Run(ctx, chromedp.Text(adaRow+` td.steps`))
	fail("steps", err)
	if !strings.HasPrefix(steps, "0/3") {
		t.Errorf("ada's steps read %q, want 0/3", steps)
	}

	// Observe: the lecturer sees her shell, read-only, in a laptop's window:
	// the pane opens below the table, and is brought into view.
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 757),
		chromedp.Click(adaRow+` button[data-key="observe:`+s.ID+`:node1"]`),
		chromedp.WaitVisible(`#observe-term[data-state="connected"][data-role="observer"]`),
	)
	fail("observe", err)
	inView := func(sel string) bool {
		t.Helper()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const r = document.querySelector(`+quoteJS(sel)+`).getBoundingClientRect();
			return r.top >= 0 && r.top < innerHeight - 100 && r.bottom > 0; })()`))
		return err == nil && ok
	}
	if !inView("#observe-term") {
		screenshot(t, ctx, "failed-lecturer-observe-view")
		t.Error("the observed terminal opened out of view")
	}
	observed := func(what string, re *regexp.Regexp) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#observe-term .xterm-rows > div")).map(r => r.textContent)`))
			text := strings.Join(rows, "\n")
			if err == nil && re.MatchString(text) {
				return
			}
			if time.Now().After(deadline) {
				screenshot(t, ctx, "failed-lecturer-observe")
				t.Fatalf("the observed terminal never showed %s; it shows:\n%s", what, text)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	observed("what ada typed before", regexp.MustCompile(`(?m)^before-42\s*$`))
	// Keys pressed in the observer's terminal reach nobody.
	chromedp.Do(ctx, typeInto(`#observe-term .xterm-helper-textarea`, "echo from-the-lecturer\n"))
	w.Send(terminal.Input([]byte("echo during-$((6*7))\n")))
	observed("what ada types while observed", regexp.MustCompile(`(?m)^during-42\s*$`))
	assertAccessibleNow(t, ctx, l.url+"/en/lecturer/", "a11y-lecturer-observing")
	if rows, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#observe-term .xterm-rows").textContent`)); strings.Contains(rows, "from-the-lecturer") {
		t.Error("the observer's keys reached the trainee's shell")
	}

	// The class wall: a live thumbnail of ada's terminal that follows her
	// typing; one click observes it in full.
	thumb := `#wall-list li[data-session="` + s.ID + `"][data-node="node1"]`
	err = chromedp.Do(ctx,
		chromedp.Click("#observe-stop"),
		evaluate(`window.scrollTo(0, 0)`),
		chromedp.Click("#wall-toggle"),
		chromedp.WaitVisible(thumb+` .wall-term[data-state="connected"]`),
	)
	fail("open the wall", err)
	thumbText := func(what string, re *regexp.Regexp) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(`+quoteJS(thumb+` .xterm-rows > div`)+`)).map(r => r.textContent)`))
			text := strings.Join(rows, "\n")
			if err == nil && re.MatchString(text) {
				return
			}
			if time.Now().After(deadline) {
				screenshot(t, ctx, "failed-lecturer-wall")
				t.Fatalf("the wall's thumbnail never showed %s; it shows:\n%s", what, text)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	thumbText("ada's earlier work", regexp.MustCompile(`(?m)^during-42\s*$`))
	w.Send(terminal.Input([]byte("echo on-the-wall-$((6*7))\n")))
	thumbText("what ada types now", regexp.MustCompile(`(?m)^on-the-wall-42\s*$`))
	screenshot(t, ctx, "lecturer-wall")
	err = chromedp.Do(ctx,
		chromedp.Click(thumb+" .wall-term"),
		chromedp.WaitVisible(`#observe-term[data-state="connected"][data-role="observer"]`),
	)
	fail("observe from the wall", err)
	observed("ada's screen, from the wall", regexp.MustCompile(`(?m)^on-the-wall-42\s*$`))
	if !inView("#observe-term") {
		t.Error("the terminal observed from the wall opened out of view")
	}
	assertAccessibleNow(t, ctx, l.url+"/en/lecturer/", "a11y-lecturer-wall")
	chromedp.Do(ctx, chromedp.Click("#wall-toggle"))

	// Ada passes a step: the table says so at its next refresh.
	res, err := l.rt.Exec(context.Background(), s.ID, "node1", lab.Command{Script: "mkdir -p /root/work && echo storage > /root/work/notes.txt", Timeout: time.Minute})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("solution: %v %+v", err, res)
	}
	if r := l.check(t, ada, s.ID, "make-notes"); !r.Passed {
		t.Fatalf("make-notes: %+v", r)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		steps, err = chromedp.Run(ctx, chromedp.Text(adaRow+` td.steps`))
		if err == nil && strings.HasPrefix(steps, "1/3") {
			break
		}
		if time.Now().After(deadline) {
			screenshot(t, ctx, "failed-lecturer-progress")
			t.Fatalf("the progress table never showed 1/3 for ada: %q %v", steps, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	bob, err := chromedp.Run(ctx, chromedp.Text(`#progress tbody tr[data-trainee="bob@example.com"]`))
	fail("bob's row", err)
	if !strings.Contains(bob, "not started") {
		t.Errorf("bob's row reads %q", bob)
	}
	screenshot(t, ctx, "lecturer-console")

	// Replay: the recording of ada's terminal plays in asciinema-player.
	err = chromedp.Do(ctx,
		chromedp.Click("#observe-stop"),
		chromedp.Click(adaRow+` button[data-key="replay:`+s.ID+`"]`),
		chromedp.WaitVisible(`#recordings button[data-recording="node1-1"]`),
		chromedp.Click(`#recordings button[data-recording="node1-1"]`),
		chromedp.WaitVisible(`#player .ap-term`),
	)
	fail("replay", err)
	deadline = time.Now().Add(30 * time.Second)
	for {
		text, err := chromedp.Run(ctx, chromedp.Text(`#player .ap-term`))
		if err == nil && strings.Contains(text, "during-42") {
			break
		}
		if time.Now().After(deadline) {
			screenshot(t, ctx, "failed-lecturer-replay")
			t.Fatalf("the replay never showed what ada typed: %q %v", text, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	screenshot(t, ctx, "lecturer-replay")
	assertAccessibleNow(t, ctx, l.url+"/en/lecturer/", "a11y-lecturer-replay")

	// Bulk issuance: nobody has finished storage-ops yet, and the table says
	// what each trainee still misses.
	err = chromedp.Do(ctx,
		chromedp.SetValue("#certs-program", "storage-ops"),
		chromedp.Click(`#certs-form button[type="submit"]`),
		chromedp.WaitVisible("#certs-out"),
	)
	fail("issue certificates", err)
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#certs-out tbody tr")).map(r => r.textContent)`))
	if err != nil || len(rows) != 2 || !strings.Contains(strings.Join(rows, "\n"), "the lab “Health check of a distributed storage cluster”") {
		t.Errorf("certificates table: %q %v", rows, err)
	}
	screenshot(t, ctx, "lecturer-certificates")

	// Another lecturer's console has no such class, and cannot observe ada.
	lars := l.token(t, "lars", auth.Lecturer)
	if code := l.call(t, "GET", "/api/classes/"+classID+"/progress", lars, nil, nil); code != 404 {
		t.Errorf("another lecturer's progress: %d, want 404", code)
	}
	if code := l.call(t, "POST", "/api/sessions/"+s.ID+"/nodes/node1/ticket", lars, nil, nil); code != 404 {
		t.Errorf("another lecturer's ticket: %d, want 404", code)
	}
}

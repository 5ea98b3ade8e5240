package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/xsky-academy/academy/labd/internal/auth"
)

// TestAccountPagesInBrowser: sign in on the login page (a wrong password
// first, and a ?next= to another site that is not followed), see the "me"
// page, sign out; then accept an invitation link and land signed in.
// labd runs with the local runtime and a lab whose checks are true and false.
func TestAccountPagesInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	if _, err := os.Stat("../site/public/en/login/index.html"); err != nil {
		t.Fatal("the site is not built: run make site (make test does)")
	}
	data := t.TempDir()
	env := func(k string) string {
		if k == "LABD_DATA" {
			return data
		}
		return ""
	}
	var out bytes.Buffer
	for _, u := range []struct{ email, name, role, pw string }{
		{"alice@example.com", "Alice Wang", "trainee", "alice's password"},
		{"root@example.com", "Root", "admin", "root's password"},
	} {
		if err := userCmd(context.Background(), []string{"add", "--email", u.email, "--name", u.name, "--role", u.role, "--password-stdin"},
			env, strings.NewReader(u.pw+"\n"), &out, &out); err != nil {
			t.Fatalf("user add: %v %s", err, out.String())
		}
	}
	// A lab whose checks are harmless on the local runtime: one passes, one fails.
	labs := t.TempDir()
	for name, body := range map[string]string{
		"notes/lab.yaml": `id: notes
title: {zh: 笔记, en: Notes}
duration: 10m
time_limit: 30m
nodes:
  - {name: node1, image: academy/tiny, terminal: true}
steps:
  - {id: one, title: {zh: 一, en: One}, text: steps/01, check: {node: node1, run: "true"}, solution: scripts/solve.sh}
  - {id: two, title: {zh: 二, en: Two}, text: steps/01, check: {node: node1, run: "false"}, solution: scripts/solve.sh}
`,
		"notes/steps/01.zh.md":   "一",
		"notes/steps/01.en.md":   "One",
		"notes/scripts/solve.sh": "true\n",
	} {
		os.MkdirAll(filepath.Join(labs, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(labs, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := startLabd(t, data, instanceName(t), labs, "--site", "../site/public", "--runtime", "local")
	tokens, err := auth.LoadTokens(data)
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, token, body string, v any) int {
		t.Helper()
		req, _ := http.NewRequest(method, l.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if v != nil {
			json.NewDecoder(resp.Body).Decode(v)
		}
		return resp.StatusCode
	}
	// Alice has a lab session with one step of two passed.
	aliceID := strings.Fields(out.String())[1]
	alice, _ := tokens.Issue(auth.User{ID: aliceID, Role: auth.Trainee}, time.Minute)
	var sess struct{ ID, State string }
	if code := call("POST", "/api/sessions", alice, `{"lab":"notes"}`, &sess); code != 201 {
		t.Fatalf("create session: %d", code)
	}
	call("GET", "/api/sessions/"+sess.ID+"?wait=30s", alice, "", &sess)
	var check struct{ Passed bool }
	if code := call("POST", "/api/sessions/"+sess.ID+"/steps/one/check", alice, "", &check); code != 200 || !check.Passed {
		t.Fatalf("check: %d %+v (session %s)", code, check, sess.State)
	}

	text := func(sel string) string {
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(l.url+"/en/login/?next=//evil.example/steal"),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "alice@example.com"),
		chromedp.SendKeys("#password", "not her password"),
		chromedp.Click(`#login-form button[type=submit]`),
		chromedp.WaitVisible(`#error:not(:empty)`),
	)
	if err != nil {
		screenshot(t, ctx, "failed-login-wrong")
		t.Fatal(err)
	}
	if got := text("#error"); got != "Wrong e-mail or password." {
		t.Errorf("error shown: %q", got)
	}
	screenshot(t, ctx, "login-wrong-password")
	err = chromedp.Do(ctx,
		chromedp.SendKeys("#password", "alice's password"),
		chromedp.Click(`#login-form button[type=submit]`),
		chromedp.WaitVisible("#who"),
	)
	if err != nil {
		screenshot(t, ctx, "failed-login")
		t.Fatal(err)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if loc != l.url+"/en/me/" {
		t.Errorf("after sign-in at %s, want the me page (the foreign next ignored)", loc)
	}
	if got := text("#name"); got != "Alice Wang" {
		t.Errorf("name shown: %q", got)
	}
	if got := text("#role"); got != "Trainee" {
		t.Errorf("role shown: %q", got)
	}
	cookies, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
	if !strings.Contains(cookies, "labd_csrf=") || strings.Contains(cookies, "labd_session") {
		t.Errorf("script sees cookies %q: want labd_csrf only (labd_session is HttpOnly)", cookies)
	}
	row, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#labs tbody td")).map(td => td.textContent.trim())`))
	if err != nil || len(row) != 4 || row[0] != "Notes" || row[1] != "Running" || row[2] != "1 / 2" {
		t.Errorf("lab sessions shown: %q %v", row, err)
	}
	if href, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#labs tbody a").getAttribute("href")`)); href != "/en/labs/notes/" {
		t.Errorf("lab link %q", href)
	}
	screenshot(t, ctx, "me")

	err = chromedp.Do(ctx,
		chromedp.Click("#logout"),
		chromedp.WaitVisible("#login-form"),
		chromedp.Navigate(l.url+"/en/me/"),
		chromedp.WaitVisible("#login-form"), // signed out: the me page sends to sign-in
	)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ = chromedp.Run(ctx, chromedp.Location())
	if !strings.HasPrefix(loc, l.url+"/en/login/?next=") {
		t.Errorf("signed out, the me page went to %s", loc)
	}
	// A next on this site is followed (here the Chinese page, not the default).
	err = chromedp.Do(ctx,
		chromedp.Navigate(l.url+"/en/login/?next=%2Fzh%2Fme%2F"),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "alice@example.com"),
		chromedp.SendKeys("#password", "alice's password"),
		chromedp.Click(`#login-form button[type=submit]`),
		chromedp.WaitVisible("#who"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != l.url+"/zh/me/" {
		t.Errorf("next=/zh/me/ led to %s", loc)
	}
	if err := chromedp.Do(ctx, chromedp.Click("#logout"), chromedp.WaitVisible("#login-form")); err != nil {
		t.Fatal(err)
	}

	// An invitation: the admin asks labd for a link; the browser opens it.
	admin, _ := tokens.Issue(auth.User{ID: "root", Role: auth.Admin}, time.Minute)
	var inv struct{ URL string }
	if code := call("POST", "/api/invitations", admin, `{"email":"tom@example.com","role":"trainee","lang":"zh"}`, &inv); code != 201 || !strings.Contains(inv.URL, "/zh/invite/#") {
		t.Fatalf("invite: %d %+v", code, inv)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(inv.URL),
		chromedp.WaitVisible("#password"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); strings.Contains(loc, "#") {
		t.Errorf("the secret stays in the address bar: %s", loc)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys("#name", "汤姆"),
		chromedp.SendKeys("#password", "tom's long password"),
		chromedp.SendKeys("#again", "tom's long passwor"),
		chromedp.Click(`#invite-form button[type=submit]`),
		chromedp.WaitVisible(`#error:not(:empty)`),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := text("#error"); got != "两次输入的密码不一致。" {
		t.Errorf("mismatch error: %q", got)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys("#again", "d"),
		chromedp.Click(`#invite-form button[type=submit]`),
		chromedp.WaitVisible("#who"),
	)
	if err != nil {
		screenshot(t, ctx, "failed-invite")
		t.Fatal(err)
	}
	if got := text("#name"); got != "汤姆" {
		t.Errorf("name after accepting: %q", got)
	}
	screenshot(t, ctx, "invite-accepted")
}

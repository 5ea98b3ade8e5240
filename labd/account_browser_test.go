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
	labs := notesLab(t)
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

// notesLab writes a lab whose checks are harmless on the local runtime
// (one passes, one fails) and returns its folder.
func notesLab(t *testing.T) string {
	t.Helper()
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
	return labs
}

// TestAdminUsersPage: an admin changes a role, deactivates a trainee (whose
// token and lab session stop at once) and deletes her after confirming, on
// /en/admin/; both languages' pages are axe-clean, the dialog open too.
func TestAdminUsersPage(t *testing.T) {
	ctx := newBrowser(t)
	if _, err := os.Stat("../site/public/en/admin/index.html"); err != nil {
		t.Fatal("the site is not built: run make site (make test does)")
	}
	data := t.TempDir()
	env := func(k string) string {
		if k == "LABD_DATA" {
			return data
		}
		return ""
	}
	ids := map[string]string{}
	for _, u := range []struct{ email, name, role string }{
		{"root@example.com", "Root", "admin"}, {"wei@example.com", "张伟", "trainee"}, {"bob@example.com", "Bob", "lecturer"},
	} {
		var out bytes.Buffer
		if err := userCmd(context.Background(), []string{"add", "--email", u.email, "--name", u.name, "--role", u.role, "--password-stdin"},
			env, strings.NewReader("a long password\n"), &out, &out); err != nil {
			t.Fatalf("user add: %v %s", err, out.String())
		}
		ids[u.email] = strings.Fields(out.String())[1]
	}
	wei := ids["wei@example.com"]
	l := startLabd(t, data, instanceName(t), notesLab(t), "--site", "../site/public", "--runtime", "local")
	tokens, err := auth.LoadTokens(data)
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, token string, v any) int {
		t.Helper()
		req, _ := http.NewRequest(method, l.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
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
	admin, _ := tokens.Issue(auth.User{ID: ids["root@example.com"], Role: auth.Admin}, time.Hour)
	weiToken, _ := tokens.Issue(auth.User{ID: wei, Role: auth.Trainee}, time.Hour)
	var sess struct{ ID, State string }
	req, _ := http.NewRequest("POST", l.url+"/api/sessions", strings.NewReader(`{"lab":"notes"}`))
	req.Header.Set("Authorization", "Bearer "+weiToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("create session: %v %v", resp, err)
	}
	json.NewDecoder(resp.Body).Decode(&sess)
	resp.Body.Close()
	call("GET", "/api/sessions/"+sess.ID+"?wait=30s", weiToken, &sess)

	fail := func(what string, err error) {
		t.Helper()
		if err != nil {
			screenshot(t, ctx, "failed-admin-"+what)
			t.Fatalf("%s: %v", what, err)
		}
	}
	row := "#user-" + wei
	err = chromedp.Do(ctx,
		chromedp.Navigate(l.url+"/en/login/?next=%2Fen%2Fadmin%2F"),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "root@example.com"),
		chromedp.SendKeys("#password", "a long password"),
		chromedp.Click(`#login-form button[type=submit]`),
		chromedp.WaitVisible(row),
	)
	fail("sign in", err)
	// The "me" page links an admin here.
	err = chromedp.Do(ctx,
		chromedp.Navigate(l.url+"/en/me/"),
		chromedp.WaitVisible("#admin-link a"),
		chromedp.Click("#admin-link a"),
		chromedp.WaitVisible(row),
	)
	fail("the link from the me page", err)
	assertAccessibleNow(t, ctx, l.url+"/en/admin/", "a11y-admin-users")

	// A role change.
	bob := ids["bob@example.com"]
	err = chromedp.Do(ctx,
		evaluate(`(s => { s.value = "trainee"; s.dispatchEvent(new Event("change")); })(document.getElementById("role-`+bob+`"))`),
		chromedp.WaitVisible(`#status:not(:empty)`),
	)
	fail("role", err)
	var users []struct{ ID, Role, State string }
	call("GET", "/api/users", admin, &users)
	for _, u := range users {
		if u.ID == bob && u.Role != "trainee" {
			t.Errorf("bob's role after the change: %s", u.Role)
		}
	}

	// Deactivate: her token and her lab session stop at once.
	err = chromedp.Do(ctx,
		chromedp.Click(row+" button.deactivate"),
		chromedp.WaitVisible(row+`[data-state="deactivated"]`),
	)
	fail("deactivate", err)
	if code := call("GET", "/api/me", weiToken, nil); code != 401 {
		t.Errorf("a deactivated trainee's token: %d, want 401", code)
	}
	call("GET", "/api/sessions/"+sess.ID, admin, &sess)
	if sess.State != "ended" {
		t.Errorf("her lab session is %s, want ended", sess.State)
	}

	// Delete: the dialog asks; cancel keeps her, confirm deletes.
	err = chromedp.Do(ctx,
		chromedp.Click(row+" button.delete"),
		chromedp.WaitVisible("#confirm[open]"),
	)
	fail("open the dialog", err)
	if got, _ := chromedp.Run(ctx, chromedp.Text("#confirm-text")); !strings.Contains(got, "张伟") || !strings.Contains(got, "wei@example.com") {
		t.Errorf("the dialog says %q", got)
	}
	assertAccessibleNow(t, ctx, l.url+"/en/admin/", "a11y-admin-confirm")
	err = chromedp.Do(ctx,
		chromedp.Click("#confirm-cancel"),
		chromedp.WaitNotPresent("#confirm[open]"),
		chromedp.WaitVisible(row),
	)
	fail("cancel", err)
	err = chromedp.Do(ctx,
		chromedp.Click(row+" button.delete"),
		chromedp.WaitVisible("#confirm[open]"),
		chromedp.Click("#confirm-delete"),
		chromedp.WaitNotPresent(row),
	)
	fail("delete", err)
	users = nil
	call("GET", "/api/users", admin, &users)
	if len(users) != 2 {
		t.Errorf("users after the delete: %+v", users)
	}

	// The Chinese page, the same list.
	err = chromedp.Do(ctx,
		chromedp.Navigate(l.url+"/zh/admin/"),
		chromedp.WaitVisible("#user-"+bob),
	)
	fail("zh", err)
	assertAccessibleNow(t, ctx, l.url+"/zh/admin/", "a11y-admin-users-zh")

	// Someone else (a script's token for bob, a trainee now) is told the page is not theirs.
	bobToken, _ := tokens.Issue(auth.User{ID: bob, Role: auth.Trainee}, time.Hour)
	err = chromedp.Do(ctx,
		evaluate(`sessionStorage.setItem("labd.token", `+quoteJS(bobToken)+`)`),
		chromedp.Navigate(l.url+"/en/admin/"),
		chromedp.WaitVisible("#forbidden"),
	)
	fail("forbidden", err)
	if shown, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.getElementById("users").hidden`)); shown {
		t.Error("a trainee sees the users table")
	}
}

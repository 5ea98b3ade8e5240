package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/exam"
	"github.com/xsky-academy/academy/labd/internal/exam/examtest"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// A small program for the end-to-end test: the linux-basics lab and a
// three-question exam.
const e2eProgram = `id: shell-basics
title: {zh: 命令行基础认证, en: Shell basics certificate}
description: {zh: 能在 Linux 命令行上完成日常运维操作。, en: Does everyday operations work at a Linux shell.}
labs: [linux-basics]
exam: {bank: shell-basics.bank.yaml, draw: 3, pass_mark: 60, time_limit: 10m, max_attempts: 2}
validity: 1y
`

const e2eBank = `questions:
  - id: pwd
    kind: single
    topic: shell
    text: {zh: "哪个命令显示当前目录？", en: "Which command prints the working directory?"}
    options:
      - {id: a, text: {zh: "pwd", en: "pwd"}}
      - {id: b, text: {zh: "cd", en: "cd"}}
    answer: [a]
  - id: exec
    kind: single
    topic: shell
    text: {zh: "哪个命令让脚本可执行？", en: "Which command makes a script executable?"}
    options:
      - {id: a, text: {zh: "chmod +x", en: "chmod +x"}}
      - {id: b, text: {zh: "chown", en: "chown"}}
    answer: [a]
  - id: archive
    kind: multiple
    topic: shell
    text: {zh: "哪些命令可以打包文件？", en: "Which commands can archive files?"}
    options:
      - {id: a, text: {zh: "tar", en: "tar"}}
      - {id: b, text: {zh: "zip", en: "zip"}}
      - {id: c, text: {zh: "ls", en: "ls"}}
    answer: [a, b]
`

// TestCertificationEndToEnd walks a trainee from a lab to a certificate
// through labd's real API: the lab's steps pass on Docker, the exam is
// graded on the server, the claim issues a signed credential whose verify
// page and JWT anyone can fetch, which verifies offline with the published
// keys, and which, once an admin revokes it, the status list reports revoked.
func TestCertificationEndToEnd(t *testing.T) {
	needDocker(t)
	certs := t.TempDir()
	os.WriteFile(filepath.Join(certs, "shell-basics.yaml"), []byte(e2eProgram), 0o644)
	os.WriteFile(filepath.Join(certs, "shell-basics.bank.yaml"), []byte(e2eBank), 0o644)
	l := startLabd(t, t.TempDir(), instanceName(t), "../labs", "--certs", certs, "--site", "../site/public")
	admin := l.token(t, "root", auth.Admin)

	// Tina's account, by invitation; she works with a token for it.
	var inv struct{ URL string }
	if code := l.call(t, "POST", "/api/invitations", admin, map[string]string{"email": "tina@example.com", "name": "Tina Tang", "role": "trainee"}, &inv); code != 201 {
		t.Fatalf("invite: %d", code)
	}
	_, secret, _ := strings.Cut(inv.URL, "#")
	var accepted struct{ User struct{ ID string } }
	if code := l.call(t, "POST", "/api/invitations/accept", "", map[string]string{"token": secret, "password": "tina's long password"}, &accepted); code != 200 || accepted.User.ID == "" {
		t.Fatalf("accept: %d %+v", code, accepted)
	}
	trainee := l.token(t, accepted.User.ID, auth.Trainee)

	// Claiming too early says what is missing.
	var refused struct {
		Error struct {
			Code, Message string
			Details       struct{ Missing []exam.Missing }
		}
	}
	if code := l.call(t, "POST", "/api/programs/shell-basics/claim", trainee, nil, &refused); code != 409 ||
		!strings.Contains(refused.Error.Message, "linux-basics") || len(refused.Error.Details.Missing) != 2 ||
		refused.Error.Details.Missing[0].Kind != "lab" || refused.Error.Details.Missing[0].Title.ZH != "Linux 命令行基础" {
		t.Fatalf("early claim: %d %+v", code, refused)
	}

	// The lab: every step's solution, then its check.
	def, err := lab.LoadDefinition("../labs/linux-basics/lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := l.readySession(t, trainee, "linux-basics")
	for _, step := range def.Steps {
		if _, err := l.rt.Exec(context.Background(), s.ID, step.Solution.Node,
			lab.Command{Script: step.Solution.Body, Timeout: time.Minute}); err != nil {
			t.Fatal(err)
		}
		if r := l.check(t, trainee, s.ID, step.ID); !r.Passed {
			t.Fatalf("step %s: %s", step.ID, r.Output)
		}
	}

	// The exam, answered right from the bank (the paper has no key).
	var paper exam.Paper
	if code := l.call(t, "GET", "/api/exams/shell-basics/attempt", trainee, nil, &paper); code != 200 || len(paper.Questions) != 3 {
		t.Fatalf("start the exam: %d %+v", code, paper)
	}
	progs, err := exam.LoadPrograms(certs, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	prog, _ := progs.Program("shell-basics")
	var graded struct {
		Score  int
		Passed bool
	}
	answers := map[string]any{"answers": examtest.Key(&paper, prog.Bank, true)}
	if code := l.call(t, "POST", "/api/exams/shell-basics/attempt/"+paper.ID, trainee, answers, &graded); code != 200 || !graded.Passed {
		t.Fatalf("submit: %d %+v", code, graded)
	}

	// The claim.
	var claimed struct {
		Code      string
		VerifyURL string `json:"verify_url"`
	}
	if code := l.call(t, "POST", "/api/programs/shell-basics/claim", trainee, nil, &claimed); code != 201 || claimed.Code == "" {
		t.Fatalf("claim: %d %+v", code, claimed)
	}

	// Anyone verifies it: the page, the JSON status, the JWT and the keys.
	get := func(path string) (int, []byte) {
		resp, err := http.Get(l.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	code, page := get("/v/" + claimed.Code + "?lang=en")
	if code != 200 || !bytes.Contains(page, []byte("Shell basics certificate")) || !bytes.Contains(page, []byte("Tina Tang")) {
		t.Fatalf("verify page: %d\n%.400s", code, page)
	}
	var status struct{ Status string }
	if c := l.call(t, "GET", "/api/certificates/"+claimed.Code, "", nil, &status); c != 200 || status.Status != "valid" {
		t.Fatalf("status: %d %+v", c, status)
	}
	dir := t.TempDir()
	fetch := func(path, name string) string {
		code, b := get(path)
		if code != 200 {
			t.Fatalf("%s: %d %s", path, code, b)
		}
		f := filepath.Join(dir, name)
		os.WriteFile(f, b, 0o644)
		return f
	}
	jwt := fetch("/v/"+claimed.Code+".jwt", "cert.jwt")
	jwks := fetch("/.well-known/jwks.json", "jwks.json")
	verify := func(statusFile string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"cert", "verify", jwt, "--jwks", jwks, "--status", statusFile},
			func(string) string { return "" }, &out, &errOut)
		return code, out.String() + errOut.String()
	}
	if code, out := verify(fetch("/status/revocation/1", "status-before.jwt")); code != 0 ||
		!strings.Contains(out, "holder:   Tina Tang") || !strings.Contains(out, "status:   valid") {
		t.Fatalf("offline verify: exit %d\n%s", code, out)
	}

	// Her page lists the program and the certificate; the verify page shows it.
	ctx := newBrowser(t)
	err = chromedp.Do(ctx,
		chromedp.Navigate(l.url+"/en/"),
		evaluate(`sessionStorage.setItem("labd.token", `+quoteJS(trainee)+`)`),
		chromedp.Navigate(l.url+"/en/me/"),
		chromedp.WaitVisible("#cert-list li"),
		chromedp.WaitVisible("#program-list li"),
	)
	if err != nil {
		screenshot(t, ctx, "failed-me-certificate")
		t.Fatal(err)
	}
	certList, _ := chromedp.Run(ctx, chromedp.Text("#cert-list"))
	progText, _ := chromedp.Run(ctx, chromedp.Text("#program-list"))
	if !strings.Contains(certList, "Shell basics certificate") || !strings.Contains(certList, "Valid") ||
		!strings.Contains(progText, "labs passed 1 of 1 · exam: passed") {
		t.Errorf("me page: certificates %q, programs %q", certList, progText)
	}
	screenshot(t, ctx, "me-certificate")
	assertAccessible(t, ctx, l.url+"/v/"+claimed.Code+"?lang=zh", "verify-valid-zh")
	if body, err := chromedp.Run(ctx, chromedp.Text("body")); err != nil || !strings.Contains(body, "Tina Tang") || !strings.Contains(body, "命令行基础认证") ||
		!strings.Contains(body, "实验：Linux 命令行基础") || !strings.Contains(body, "完成实验「Linux 命令行基础」") || strings.Contains(body, "linux-basics") {
		t.Errorf("verify page: %v\n%.300s", err, body)
	}

	// Revoked: the public status says so with the reason, and so does the
	// signed status list, offline.
	if c := l.call(t, "POST", "/api/certificates/"+claimed.Code+"/revoke", admin, map[string]string{"reason": "issued in error"}, nil); c != 200 {
		t.Fatalf("revoke: %d", c)
	}
	var revoked struct {
		Status       string
		RevokeReason string `json:"revoke_reason"`
	}
	l.call(t, "GET", "/api/certificates/"+claimed.Code, "", nil, &revoked)
	if revoked.Status != "revoked" || revoked.RevokeReason != "issued in error" {
		t.Errorf("after revoking: %+v", revoked)
	}
	if code, out := verify(fetch("/status/revocation/1", "status-after.jwt")); code == 0 || !strings.Contains(out, "revoked") {
		t.Errorf("offline verify of a revoked certificate: exit %d\n%s", code, out)
	}

	// The revocation holds against her: a claim is refused with the reason,
	// her page says 已吊销 with it; an admin's reissue gives her one again.
	var again struct {
		Error struct{ Code, Message string }
	}
	if c := l.call(t, "POST", "/api/programs/shell-basics/claim", trainee, nil, &again); c != 409 || again.Error.Code != "revoked" ||
		!strings.Contains(again.Error.Message, "issued in error") {
		t.Fatalf("claim after the revocation: %d %+v", c, again)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(l.url+"/zh/me/"),
		chromedp.WaitVisible("#program-list li p"),
	)
	if err != nil {
		screenshot(t, ctx, "failed-me-revoked")
		t.Fatal(err)
	}
	progText, _ = chromedp.Run(ctx, chromedp.Text("#program-list"))
	certList, _ = chromedp.Run(ctx, chromedp.Text("#cert-list"))
	if !strings.Contains(progText, "证书：已吊销") || !strings.Contains(progText, "原因：issued in error") ||
		!strings.Contains(certList, "已吊销") || strings.Contains(progText+certList, "撤销") {
		t.Errorf("me page after the revocation: programs %q, certificates %q", progText, certList)
	}
	screenshot(t, ctx, "me-revoked-zh")
	var reissued struct {
		Code      string
		Status    string
		ReissueOf string `json:"reissue_of"`
	}
	if c := l.call(t, "POST", "/api/certificates/"+claimed.Code+"/reissue", admin, map[string]string{"reason": "revoked by mistake"}, &reissued); c != 201 ||
		reissued.Status != "valid" || reissued.ReissueOf != claimed.Code {
		t.Fatalf("reissue: %d %+v", c, reissued)
	}
	if c := l.call(t, "POST", "/api/programs/shell-basics/claim", trainee, nil, &claimed); c != 200 || claimed.Code != reissued.Code {
		t.Errorf("claim after the reissue: %d %+v", c, claimed)
	}
}

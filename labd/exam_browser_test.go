package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/xsky-academy/academy/labd/internal/api"
	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/exam"
	"github.com/xsky-academy/academy/labd/internal/exam/examtest"
	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/lab/labtest"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

// TestExamPageInBrowser: in Chromium, a trainee who passed the labs opens
// the exam page of storage-ops, starts the exam, answers every question
// with radio buttons and checkboxes, submits, sees the result per question,
// and claims the certificate, whose verify link appears. The real programs,
// the real site, real SQLite; certificates from examtest's issuer.
func TestExamPageInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	if _, err := os.Stat("../site/public/en/exam/index.html"); err != nil {
		t.Fatal("the site is not built: run make site (make test does)")
	}
	bg := context.Background()
	catalog, err := lab.LoadCatalog("../labs")
	if err != nil {
		t.Fatal(err)
	}
	progs, err := exam.LoadPrograms("../certs", func(id string) bool { _, ok := catalog.Lab(id); return ok })
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(bg, filepath.Join(t.TempDir(), "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	labs := lab.NewService(lab.Config{}, catalog, labtest.NewRuntime(), db)
	issuer := examtest.NewIssuer()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	tokens := auth.NewTokens(key)
	srv := &api.Server{Labs: labs, Tokens: tokens, Tickets: auth.NewTickets(), SiteDir: "../site/public",
		Exams: &exam.Service{Programs: progs, Labs: catalog, Store: db, Results: db, Issuer: issuer}}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	tok, _ := tokens.Issue(auth.User{ID: "ada", Role: auth.Trainee}, time.Hour)

	// Ada passed the program's labs: every step in one session each.
	ops, _ := progs.Program("storage-ops")
	for _, id := range ops.Labs {
		d, _ := catalog.Lab(id)
		db.SaveSession(bg, &lab.Session{ID: "s-" + id, Lab: id, Owner: "ada", State: lab.Ended, Created: time.Now()})
		for _, st := range d.Steps {
			db.SaveStepResult(bg, "s-"+id, lab.StepResult{Step: st.ID, Passed: true, Checked: time.Now()})
		}
	}
	// The right options' English texts per question: the test reads the
	// bank, as only the server can; the page never sees it.
	right := map[string][]string{}
	for _, q := range ops.Bank.Questions {
		for _, o := range q.Options {
			for _, a := range q.Answer {
				if a == o.ID {
					right[q.ID] = append(right[q.ID], o.Text.EN)
				}
			}
		}
	}
	answerKey, _ := json.Marshal(right)

	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/en/exam/?program=storage-ops"),
		chromedp.WaitReady("#exam"),
		evaluate(`sessionStorage.setItem("labd.token", `+quoteJS(tok)+`)`),
		chromedp.Reload(),
		chromedp.WaitVisible("#start"),
	)
	if err != nil {
		screenshot(t, ctx, "failed-exam-load")
		t.Fatal(err)
	}
	labsText, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("labs").textContent`))
	links, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#labs a")].map(a => a.getAttribute("href"))`))
	if strings.Count(labsText, "Passed") != 3 || len(links) != 3 || links[0] != "/en/labs/ceph-health/" {
		t.Errorf("labs: %q %v", labsText, links)
	}
	if missing, _ := chromedp.Run(ctx, chromedp.Text("#missing")); missing != "Still to do: the exam." {
		t.Errorf("missing: %q", missing)
	}

	err = chromedp.Do(ctx,
		chromedp.Click("#start"),
		chromedp.WaitVisible("#paper"),
	)
	if err != nil {
		screenshot(t, ctx, "failed-exam-start")
		t.Fatal(err)
	}
	n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#questions > li").length`))
	countdown, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("countdown").textContent`))
	if n != ops.Exam.Draw || !strings.HasPrefix(countdown, "39:") && !strings.HasPrefix(countdown, "40:") {
		t.Errorf("%d questions, countdown %q", n, countdown)
	}
	// Every input has a label and sits in a fieldset with a legend.
	unlabelled, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("#questions input")].filter(i => !i.labels.length || !i.closest("fieldset").querySelector("legend")).length`))
	if unlabelled != 0 {
		t.Errorf("%d inputs without a label or legend", unlabelled)
	}
	clicked, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(() => {
		const right = `+string(answerKey)+`; let n = 0;
		for (const li of document.querySelectorAll("#questions > li")) {
			for (const label of li.querySelectorAll("label")) {
				if ((right[li.dataset.question] || []).includes(label.textContent.trim())) { label.click(); n++; }
			}
		}
		return n;
	})()`))
	if err != nil || clicked < ops.Exam.Draw {
		t.Fatalf("clicked %d right options: %v", clicked, err)
	}
	screenshot(t, ctx, "exam-answered")

	err = chromedp.Do(ctx,
		chromedp.Click("#submit"),
		chromedp.WaitVisible("#result"),
		chromedp.WaitVisible("#claim"),
	)
	if err != nil {
		screenshot(t, ctx, "failed-exam-submit")
		t.Fatal(err)
	}
	result, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("result").textContent`))
	verdicts, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#questions li[data-correct="true"] .verdict').length`))
	if !strings.Contains(result, "Score 100%") || !strings.Contains(result, "you passed") || verdicts != ops.Exam.Draw {
		t.Errorf("result %q, %d questions marked right", result, verdicts)
	}

	err = chromedp.Do(ctx,
		chromedp.Click("#claim"),
		chromedp.WaitVisible("#verify-link"),
	)
	if err != nil {
		screenshot(t, ctx, "failed-exam-claim")
		t.Fatal(err)
	}
	href, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("verify-link").getAttribute("href")`))
	if href != "/v/CERT-1" || len(issuer.Requests) != 1 || issuer.Requests[0].User != "ada" {
		t.Errorf("verify link %q, issued %+v", href, issuer.Requests)
	}
	screenshot(t, ctx, "exam-claimed")

	// Revoked: the zh page shows it with its reason (已吊销) and offers no claim.
	issuer.Set("ada", "storage-ops", exam.Holding{Code: "CERT-1", Status: exam.HeldRevoked, Reason: "考试作弊", RevokedAt: time.Now()})
	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/zh/exam/?program=storage-ops"),
		chromedp.WaitVisible("#overview"),
	)
	if err != nil {
		screenshot(t, ctx, "failed-exam-revoked")
		t.Fatal(err)
	}
	state, _ := chromedp.Run(ctx, chromedp.Text("#cert-state"))
	claimHidden, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("claim").hidden && document.getElementById("missing").hidden`))
	if !strings.Contains(state, "被吊销") || !strings.Contains(state, "原因：考试作弊") || !claimHidden {
		t.Errorf("revoked in zh: %q, claim and missing hidden %v", state, claimHidden)
	}
	screenshot(t, ctx, "exam-revoked-zh")
}

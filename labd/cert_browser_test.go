package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/xsky-academy/academy/labd/internal/api"
	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/certificate"
	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/lab/labtest"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

// TestVerifyPageInBrowser: in Chromium, with no sign-in and no script, the
// verify page of a valid certificate shows its status in the browser's
// language (English), the switch turns it Chinese, a renewed certificate's page links to
// its successor, and following that link shows the new one as valid.
func TestVerifyPageInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	bg := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(bg, filepath.Join(dir, "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keys, err := certificate.OpenKeys(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	certs := certificate.NewService(db, keys, certificate.Issuer{URL: "https://academy.test", Name: issuerName})
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	srv := &api.Server{Labs: lab.NewService(lab.Config{}, lab.NewCatalog(), labtest.NewRuntime(), db),
		Tokens: auth.NewTokens(key), Tickets: auth.NewTickets(), Certificates: certs, PDF: &certificate.PDF{}}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	req := certificate.Request{
		Program: certificate.Program{ID: "storage-ops",
			Name:        certificate.Text{ZH: "分布式存储运维工程师", EN: "Distributed Storage Operations Engineer"},
			Description: certificate.Text{ZH: "运维 XSKY 分布式存储。", EN: "Operates XSKY distributed storage."},
			Criteria:    certificate.Text{ZH: "通过实验和考试。", EN: "Pass the labs and the exam."},
			Validity:    730 * 24 * time.Hour},
		Subject: certificate.Subject{UserID: "ada", Name: "李娜 Ada Li"},
		Results: []certificate.Result{{Name: certificate.Text{ZH: "认证考试", EN: "Certification exam"}, Score: 92, PassMark: 70}},
	}
	old, err := certs.Issue(bg, req)
	if err != nil {
		t.Fatal(err)
	}
	type page struct{ lang, h1, status, holder, code string }
	read := func() page {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.readyState === "complete" && document.querySelector("h1")`)); err != nil {
			t.Fatal(err)
		}
		var p page
		var err error
		text := func(js string) string {
			s, e := chromedp.Run(ctx, chromedp.Evaluate[string](js))
			if e != nil && err == nil {
				err = e
			}
			return strings.TrimSpace(s)
		}
		p.lang = text(`document.documentElement.lang`)
		p.h1 = text(`document.querySelector("h1").textContent`)
		p.status = text(`(document.querySelector(".status") || {textContent: ""}).textContent`)
		p.holder = text(`(document.querySelector("dl dd") || {textContent: ""}).textContent`)
		p.code = text(`(document.querySelector("dd.code") || {textContent: ""}).textContent`)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	url := ts.URL + "/v/" + certificate.Group(old.Code)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	// Chromium asks for English (Accept-Language: en-US).
	if p := read(); p.lang != "en" || p.h1 != "Certificate verification" || !strings.HasPrefix(p.status, "Valid:") || p.holder != "李娜 Ada Li" {
		t.Fatalf("en page: %+v", p)
	}
	screenshot(t, ctx, "verify-valid-en")

	follow(t, ctx, `header a[hreflang="zh-CN"]`)
	if p := read(); p.h1 != "证书验证" || !strings.HasPrefix(p.status, "有效") {
		t.Fatalf("after the switch: %+v", p)
	}
	screenshot(t, ctx, "verify-valid-zh")

	next, err := certs.Renew(bg, old.Code)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"?lang=en")); err != nil {
		t.Fatal(err)
	}
	if p := read(); !strings.Contains(p.status, "Superseded") || !strings.Contains(p.status, certificate.Group(next.Code)) {
		t.Fatalf("superseded page: %+v", p)
	}
	screenshot(t, ctx, "verify-superseded-en")
	follow(t, ctx, ".status a")
	if p := read(); !strings.HasPrefix(p.status, "Valid:") || p.code != certificate.Group(next.Code) {
		t.Fatalf("the successor's page: %+v", p)
	}
}

// follow navigates to the href of the link sel, as a click would, and
// waits for the page to load.
func follow(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(`+quoteJS(sel)+`).href`))
	if err != nil || href == "" {
		t.Fatalf("link %s: %q %v", sel, href, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(href)); err != nil {
		t.Fatal(err)
	}
}

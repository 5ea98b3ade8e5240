package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/xsky-academy/academy/labd/internal/certificate"
)

// The site's pages as a demanding user uses them: search typed key by key,
// the verify form's own validation, the lab page's wide code and its
// terminal beside long steps, printing a lab, the lecturer's stuck rows.

// searchWait bounds the wait for a typed query's results. The bug it
// guards against left the page on "loading" for good; a cold page answers in
// about a second, two on a loaded two-core machine (the test logs its
// slowest), so the bound leaves room for a busy machine.
const searchWait = 5 * time.Second

// TestSiteSearchTypedKeyByKey: a first query typed one key at a time on a
// cold search page (a new browser context each run: nothing cached, so
// Pagefind loads while the keys arrive) shows the newest query's results,
// in Chinese and in English, twenty runs in a row.
func TestSiteSearchTypedKeyByKey(t *testing.T) {
	browser, l := newBrowser(t), siteLabd(t)
	queries := []struct {
		lang, q, want string
		ime           bool // typed as text input (as an input method delivers it), not key events
	}{
		{"zh", "健康检查", "/zh/kb/health-check-procedure/", true},
		{"en", "health check", "/en/kb/health-check-procedure/", false},
	}
	var slowest time.Duration
	for run := range 20 {
		for _, c := range queries {
			ctx, cancel := newTab(t, browser)
			openPage(t, ctx, l.url+"/"+c.lang+"/search/", "#q")
			if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS("#q")), typeKeys(c.q, c.ime)); err != nil {
				t.Fatal(err)
			}
			typed := time.Now()
			got, err := waitSearch(ctx, c.q, c.want)
			if err != nil {
				screenshot(t, ctx, "failed-search-typed-"+c.lang)
				t.Fatalf("run %d: %s typed key by key on /%s/search/: %v; the page shows %+v", run+1, c.q, c.lang, err, got)
			}
			slowest = max(slowest, time.Since(typed))
			cancel()
		}
	}
	t.Logf("slowest results after the last key: %v", slowest)
}

// typeKeys types s one character at a time: as key events (chromedp's
// per-rune keyDown, char, keyUp), or as text input per character, the way
// an input method commits Chinese.
func typeKeys(s string, ime bool) chromedp.Action[chromedp.Void] {
	if !ime {
		return chromedp.KeyEvent(s)
	}
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, r := range s {
			if _, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: string(r)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// searchState is what the search page shows.
type searchState struct {
	Query   string `json:"query"`  // the URL's q: the query the page last ran
	Status  string `json:"status"` // the status line
	Results int    `json:"results"`
	Hit     bool   `json:"hit"` // the wanted page is among the results
}

// waitSearch waits up to searchWait for the search page to show q's
// results, want among them; it returns what the page shows.
func waitSearch(ctx context.Context, q, want string) (searchState, error) {
	js := fmt.Sprintf(`({
		query: new URLSearchParams(location.search).get("q") || "",
		status: document.getElementById("search-status").textContent,
		results: document.querySelectorAll("#results li").length,
		hit: !!document.querySelector('#results a[href=%q]'),
	})`, want)
	for deadline := time.Now().Add(searchWait); ; time.Sleep(25 * time.Millisecond) {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[searchState](js))
		if err != nil || s.Query == q && s.Hit {
			return s, err
		}
		if time.Now().After(deadline) {
			return s, fmt.Errorf("no results with %s within %v", want, searchWait)
		}
	}
}

// TestSiteVerifyFormValidates: the browser itself checks a certificate code
// with the form's pattern (an invalid pattern is skipped, and logged), and
// it accepts exactly what labd's certificate.ParseCode accepts.
func TestSiteVerifyFormValidates(t *testing.T) {
	ctx, l := newBrowser(t), siteLabd(t)
	for _, lang := range []string{"zh", "en"} {
		page := l.url + "/" + lang + "/verify/"
		openPage(t, ctx, page, "#cert-code")
		// A person types a short code and presses the button: the browser
		// refuses it, on the page, and says why.
		err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS("#cert-code"), "ABCD-EFGH-IJKL"),
			chromedp.Click(chromedp.CSS(".verify-form button")),
		)
		if err != nil {
			t.Fatal(err)
		}
		state := get(t, ctx, chromedp.Evaluate[struct {
			URL      string `json:"url"`
			Mismatch bool   `json:"mismatch"`
			Message  string `json:"message"`
			Invalid  bool   `json:"invalid"`
			HasFocus bool   `json:"focus"`
		}](`(() => { const i = document.getElementById("cert-code");
			return {url: location.href, mismatch: i.validity.patternMismatch, message: i.validationMessage,
				invalid: i.matches(":user-invalid"), focus: document.activeElement === i}; })()`))
		screenshot(t, ctx, "verify-form-invalid-"+lang)
		if state.URL != page || !state.Mismatch || state.Message == "" || !state.Invalid || !state.HasFocus {
			t.Errorf("/%s/verify/: a short code: %+v; want the browser's pattern mismatch, a message, :user-invalid and the focus, on the page", lang, state)
		}
		// The pattern and labd agree.
		for _, code := range []string{
			certificate.Group(certificate.NewCode()), certificate.NewCode(), "abcd efgh ijkl mnop", "ABCD-EFGH-IJKL-MN0P",
			" abcd-efgh-ijkl-mnop ", "ABCD-EFGH-IJKL", "ABCD-EFGH-IJKL-MNOP-Q", "ABCD-EFGH-IJKL-MNO9", "ABCD_EFGH_IJKL_MNOP", "ÄBCD-EFGH-IJKL-MNOP",
		} {
			valid := get(t, ctx, chromedp.Evaluate[bool](`(() => { const i = document.getElementById("cert-code"); i.value = `+quoteJS(code)+`; return i.validity.valid; })()`))
			_, err := certificate.ParseCode(code)
			if valid != (err == nil) {
				t.Errorf("/%s/verify/: the browser finds %q valid: %v; labd's ParseCode: %v", lang, code, valid, err)
			}
		}
	}
}

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
			ctx, closeTab := newTab(t, browser)
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
			closeTab()
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

// TestSiteLabPageLayout: on a wide screen, the lab page's steps show their
// code whole (a long command wraps in the narrow steps column; other code
// scrolls and takes the focus, for keyboard users), and the terminal stays
// in view, its tabs and all, while the steps scroll to the page's end, with
// a node's pane laid out as lab.js lays it out when a lab runs.
func TestSiteLabPageLayout(t *testing.T) {
	ctx, l := newBrowser(t), siteLabd(t)
	for _, c := range []struct {
		lang string
		w, h int64
	}{{"zh", 1400, 900}, {"en", 1400, 900}, {"zh", 1280, 600}} {
		lang := c.lang
		page := l.url + "/" + lang + "/labs/linux-basics/"
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(c.w, c.h)); err != nil {
			t.Fatal(err)
		}
		openPage(t, ctx, page, "#steps")
		// Open every hint and solution: closed, their code has no layout.
		type pre struct {
			Text            string `json:"text"`
			Steps           bool   `json:"steps"` // in the steps column
			Scroll, Client  int
			Scrollable, Tab bool
		}
		pres := get(t, ctx, chromedp.Evaluate[[]pre](`(() => {
			for (const d of document.querySelectorAll(".lab details")) d.open = true;
			return Array.from(document.querySelectorAll(".lab pre"), p => ({
				text: p.textContent.slice(0, 60), steps: !!p.closest(".instructions"),
				Scroll: p.scrollWidth, Client: p.clientWidth,
				Scrollable: ["auto", "scroll"].includes(getComputedStyle(p).overflowX), Tab: p.tabIndex >= 0,
			}));
		})()`))
		if len(pres) == 0 {
			t.Fatalf("%s: no code blocks", page)
		}
		for _, p := range pres {
			fits := p.Scroll <= p.Client
			if p.Steps && !fits || !fits && !(p.Scrollable && p.Tab) {
				t.Errorf("%s: the code %q is %dpx wide in a %dpx box (scrollable %v, focusable %v): want it whole in the steps column, else scrollable and focusable",
					page, p.Text, p.Scroll, p.Client, p.Scrollable, p.Tab)
			}
		}
		name := fmt.Sprintf("lab-layout-%s-%dx%d", lang, c.w, c.h)
		screenshot(t, ctx, name)

		// A running lab's pane (lab.js renderTabs), then the page scrolled to its end.
		view := get(t, ctx, chromedp.Evaluate[struct {
			Top, Bottom, Height float64
			Scrolled            bool
		}](`(async () => {
			for (const d of document.querySelectorAll(".lab details")) d.open = false;
			const tab = document.createElement("button");
			tab.setAttribute("role", "tab"); tab.textContent = "node1";
			const pane = document.createElement("div");
			pane.className = "pane"; pane.setAttribute("role", "tabpanel");
			document.getElementById("tabs").replaceChildren(tab);
			document.getElementById("panes").replaceChildren(pane);
			scrollTo(0, document.documentElement.scrollHeight);
			await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
			const tabs = document.getElementById("tabs").getBoundingClientRect(), r = pane.getBoundingClientRect();
			return {Top: tabs.top, Bottom: r.bottom, Height: innerHeight, Scrolled: scrollY > innerHeight / 2};
		})()`, chromedp.EvalAwaitPromise))
		screenshot(t, ctx, name+"-scrolled")
		if !view.Scrolled {
			t.Errorf("%s: the steps are not longer than the window (scrolled %+v): the test shows nothing", page, view)
		}
		if view.Top < 0 || view.Bottom > view.Height {
			t.Errorf("%s (%dx%d): scrolled to the end, the terminal (its tabs to its pane's end) is at %.0f–%.0fpx of a %.0fpx window: want it all in view", page, c.w, c.h, view.Top, view.Bottom, view.Height)
		}
	}
}

// TestSiteLabPagePrint: a printed lab page has its hints and solutions open,
// and the page is as it was once printed (closed again). The text of the
// PDF Chromium prints is what counts: poppler's pdftotext reads it.
func TestSiteLabPagePrint(t *testing.T) {
	ctx, l := newBrowser(t), siteLabd(t)
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("pdftotext is not installed: run make deps (poppler-utils)")
	}
	for _, lang := range []string{"zh", "en"} {
		page := l.url + "/" + lang + "/labs/linux-basics/"
		openPage(t, ctx, page, "#steps")
		// The closed hints' and solutions' words, as the page has them.
		hidden := get(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#steps details:not([open])"),
			d => d.querySelector(":scope > :not(summary)").textContent.trim().split("\n").pop().trim())`))
		if len(hidden) < 4 {
			t.Fatalf("%s: %d closed hints and solutions, want the lab's", page, len(hidden))
		}
		pdf := get(t, ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
		file := filepath.Join(t.TempDir(), "lab.pdf")
		if err := os.WriteFile(file, pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(pdftotext, "-layout", file, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext: %v", err)
		}
		// Lines break anywhere on paper: compare the words without spaces.
		text := strings.Join(strings.Fields(string(out)), "")
		for _, h := range hidden {
			if !strings.Contains(text, strings.Join(strings.Fields(h), "")) {
				t.Errorf("%s: the printout lacks a hint's or solution's %q", page, h)
			}
		}
		if open := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#steps details[open]").length`)); open != 0 {
			t.Errorf("%s: after printing, %d hints and solutions stay open; want them closed as before", page, open)
		}
	}
}

// TestSiteLecturerStuckRow: a stuck trainee's row in the lecturer's
// progress table is shaded whole, its row header (the trainee) and every
// cell, in light and dark; other rows are not. The rows are built as
// lecturer.js builds them (a th, then the lab's and the other cells).
func TestSiteLecturerStuckRow(t *testing.T) {
	ctx, l := newBrowser(t), siteLabd(t)
	defer colorScheme(t, ctx, "")
	for _, scheme := range []string{"light", "dark"} {
		colorScheme(t, ctx, scheme)
		if err := chromedp.Do(ctx, chromedp.Navigate(l.url+"/en/lecturer/"), chromedp.WaitReady(chromedp.CSS("#progress tbody"))); err != nil {
			t.Fatal(err)
		}
		rows := get(t, ctx, chromedp.Evaluate[[][]string](`(() => {
			document.getElementById("class").hidden = false;
			const row = (stuck) => {
				const tr = document.createElement("tr");
				tr.dataset.stuck = stuck;
				const who = document.createElement("th");
				who.scope = "row"; who.textContent = "Zhang Wei";
				if (stuck) { const s = document.createElement("span"); s.className = "stuck"; s.textContent = "stuck"; who.append(s); }
				const steps = document.createElement("td"); steps.className = "steps"; steps.textContent = "1/3";
				tr.append(who, ...["Lab: Linux shell basics"].map(x => Object.assign(document.createElement("td"), {textContent: x})), steps,
					...["5 min ago", "ready", ""].map(x => Object.assign(document.createElement("td"), {textContent: x})));
				return tr;
			};
			const tbody = document.querySelector("#progress tbody");
			tbody.replaceChildren(row(true), row(false));
			return Array.from(tbody.rows, tr => Array.from(tr.cells, c => getComputedStyle(c).backgroundColor));
		})()`))
		screenshot(t, ctx, "lecturer-stuck-row-"+scheme)
		stuck, calm := rows[0], rows[1]
		for i, bg := range stuck {
			if bg != stuck[1] || bg == calm[i] {
				t.Errorf("%s: the stuck row's cells have the backgrounds %v, the other row's %v: want every stuck cell shaded alike, unlike the other row", scheme, stuck, calm)
				break
			}
		}
	}
}

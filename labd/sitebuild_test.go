package main

import (
	"os"
	"path"
	"strings"
	"testing"

	"github.com/xsky-academy/academy/labd/internal/sitecheck"
)

// siteDir is the built portal; make test builds it before the tests.
const siteDir = "../site/public"

func builtSite(t *testing.T) []*sitecheck.Page {
	t.Helper()
	if testing.Short() {
		t.Skip("checks the built site (run without -short, after make site)")
	}
	if _, err := os.Stat(siteDir + "/zh/index.html"); err != nil {
		t.Fatalf("the site is not built: run make site (make test does): %v", err)
	}
	pages, err := sitecheck.Pages(siteDir)
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

// TestSiteLinks: every internal link of the built site resolves, in both
// languages, and the pages readers are sent to exist in both.
func TestSiteLinks(t *testing.T) {
	pages := builtSite(t)
	for _, p := range sitecheck.Links(siteDir, pages) {
		t.Error(p)
	}
	have := map[string]bool{}
	for _, p := range pages {
		have[p.Path] = true
	}
	for _, lang := range []string{"zh", "en"} {
		for _, p := range []string{"", "services/", "services/onsite-assurance/", "courses/", "courses/ceph-ops/",
			"courses/ceph-ops/01-architecture/01-overview/", "courses/ceph-ops/04-operations/03-capacity-expansion/",
			"kb/", "kb/health-check-procedure/", "labs/", "labs/ceph-health/", "search/", "404.html"} {
			if !have["/"+lang+"/"+p] {
				t.Errorf("/%s/%s is missing from the built site", lang, p)
			}
		}
	}
	var lessons, articles int
	for _, p := range pages {
		switch {
		case strings.HasPrefix(p.Path, "/en/courses/ceph-ops/0") && strings.Count(p.Path, "/") == 6:
			lessons++
		case strings.HasPrefix(p.Path, "/en/kb/") && strings.Count(p.Path, "/") == 4 && p.Path != "/en/kb/page/":
			articles++
		}
	}
	if lessons < 12 || articles < 12 {
		t.Errorf("the course has %d lessons (want ≥ 12), the knowledge base %d articles (want ≥ 12)", lessons, articles)
	}
}

// TestSiteWording: the Chinese pages name the site XSKY 学院, call a revoked
// certificate 已吊销, and put a full-width colon after Chinese text.
func TestSiteWording(t *testing.T) {
	for _, p := range sitecheck.Wording(builtSite(t)) {
		t.Error(p)
	}
}

// TestSiteBudgets holds the pages to their weight budgets (design §9): a
// lesson ≤ 30 KB of HTML gzipped; a first load ≤ 150 KB without images; at
// most 30 KB of gzipped JavaScript on pages without a terminal.
func TestSiteBudgets(t *testing.T) {
	pages := builtSite(t)
	lessons := sitecheck.Find(pages, "/*/courses/ceph-ops/*/*/")
	if len(lessons) == 0 {
		t.Fatal("no lesson pages in the built site")
	}
	for _, p := range lessons {
		w, err := sitecheck.PageWeight(siteDir, p)
		if err != nil {
			t.Fatal(err)
		}
		if w.HTML > 30<<10 {
			t.Errorf("%s: %d bytes of HTML gzipped, budget 30 KB", p.Path, w.HTML)
		}
	}
	var worst sitecheck.Weight
	var worstPage string
	for _, p := range pages {
		w, err := sitecheck.PageWeight(siteDir, p)
		if err != nil {
			t.Fatal(err)
		}
		if w.Total() > 150<<10 {
			t.Errorf("%s: first load %d bytes gzipped, budget 150 KB", p.Path, w.Total())
		}
		if !hasTerminal(p.Path) && w.JS > 30<<10 {
			t.Errorf("%s: %d bytes of JavaScript gzipped on a page without a terminal, budget 30 KB", p.Path, w.JS)
		}
		if w.Total() > worst.Total() {
			worst, worstPage = w, p.Path
		}
	}
	t.Logf("heaviest first load: %s: %+v, %d bytes", worstPage, worst, worst.Total())
}

// hasTerminal says whether a page shows terminals: a lab page or the
// lecturer's console.
func hasTerminal(p string) bool {
	ok, _ := path.Match("/*/labs/*/", p)
	return ok || strings.Contains(p, "/lecturer/")
}

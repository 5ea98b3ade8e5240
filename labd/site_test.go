package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/xsky-academy/academy/labd/internal/certificate"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

// The built site in headless Chromium, served by labd as in production: both
// languages, the language switch, the lesson order, search, the lab page
// signed out, and axe-core's WCAG 2.2 AA rules on each kind of page.
// make test builds the site first (make site); these tests need it built.

const sitePublic = "../site/public"

// The axe-core rules the site must pass: WCAG 2.0, 2.1 and 2.2, A and AA.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// siteLabd starts labd serving the built site, with the local runtime: these
// tests start no lab, so they need no Docker.
func siteLabd(t *testing.T) *labd {
	t.Helper()
	for _, f := range []string{"zh/index.html", "en/index.html", "pagefind/pagefind.js"} {
		if _, err := os.Stat(filepath.Join(sitePublic, f)); err != nil {
			t.Fatalf("the site is not built (%s is missing): run make site (make test does)", f)
		}
	}
	return startLabd(t, t.TempDir(), instanceName(t), "../labs", "--site", sitePublic, "--runtime", "local")
}

// TestSiteHome: both home pages, their language, navigation and labs.
func TestSiteHome(t *testing.T) {
	ctx, l := newBrowser(t), siteLabd(t)
	for _, c := range []struct{ lang, locale, title, other string }{
		{"zh", "zh-CN", "XSKY 学院", "/en/"},
		{"en", "en", "XSKY Academy", "/zh/"},
	} {
		openPage(t, ctx, l.url+"/"+c.lang+"/", "main h1")
		lang := get(t, ctx, chromedp.AttributeValue(chromedp.CSS("html"), "lang")).Value
		h1 := get(t, ctx, chromedp.Text(chromedp.CSS("main h1")))
		switchTo := get(t, ctx, chromedp.AttributeValue(chromedp.CSS("[data-lang-switch]"), "href")).Value
		navLinks := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("header .nav a").length`))
		labCards := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#h-labs ~ .cards .card").length`))
		screenshot(t, ctx, "home-"+c.lang)
		if lang != c.locale || h1 != c.title || switchTo != c.other {
			t.Errorf("/%s/: lang %q, h1 %q, switch to %q; want %q, %q, %q", c.lang, lang, h1, switchTo, c.locale, c.title, c.other)
		}
		if navLinks != 5 {
			t.Errorf("/%s/: %d links in the main navigation, want 5 (services, courses, knowledge base, labs, verify)", c.lang, navLinks)
		}
		if want := labCount(t); labCards != want {
			t.Errorf("/%s/: %d lab cards, want one per lab in labs/ (%d)", c.lang, labCards, want)
		}
	}
}

// TestSiteLanguageSwitch: the switch leads to the same page in the other
// language (a lesson, a lab, a search with its query).
func TestSiteLanguageSwitch(t *testing.T) {
	ctx, l := newBrowser(t), siteLabd(t)
	lesson := courseLessons(t)[0]
	for _, path := range []string{"/zh/" + lesson + "/", "/zh/labs/ceph-health/", "/en/labs/ceph-health/", "/en/search/?q=pool"} {
		want := swapLang(path)
		openPage(t, ctx, l.url+path, "[data-lang-switch]")
		got := clickAndWait(t, ctx, "[data-lang-switch]", l.url+want)
		if got != l.url+want {
			t.Errorf("the switch on %s went to %s, want %s", path, got, l.url+want)
		}
		wantLang := map[bool]string{true: "zh-CN", false: "en"}[strings.HasPrefix(want, "/zh/")]
		if lang := get(t, ctx, chromedp.AttributeValue(chromedp.CSS("html"), "lang")).Value; lang != wantLang {
			t.Errorf("%s: html lang %q, want %q", want, lang, wantLang)
		}
		// The search page runs q at once: let it finish before the server
		// closes, or its Pagefind fetches fail in the console.
		if strings.Contains(want, "/search/") {
			if s, err := waitSearch(ctx, "pool", "/zh/kb/pool-no-redundancy/"); err != nil {
				t.Errorf("%s: %v (the page shows %+v)", want, err, s)
			}
		}
	}
}

// TestSiteNextLesson: "lesson N of M" and each next link, in the order of
// the course's files, across module boundaries.
func TestSiteNextLesson(t *testing.T) {
	ctx, l := newBrowser(t), siteLabd(t)
	lessons := courseLessons(t)
	// Every lesson's next link, module boundaries included.
	for i := 0; i+1 < len(lessons); i++ {
		openPage(t, ctx, l.url+"/zh/"+lessons[i]+"/", `a[rel="next"]`)
		kicker := get(t, ctx, chromedp.Text(chromedp.CSS(".lesson .kicker")))
		got := clickAndWait(t, ctx, `a[rel="next"]`, l.url+"/zh/"+lessons[i+1]+"/")
		if want := fmt.Sprintf("第 %d 课，共 %d 课", i+1, len(lessons)); !strings.Contains(kicker, want) {
			t.Errorf("%s says %q, want %q", lessons[i], kicker, want)
		}
		if want := l.url + "/zh/" + lessons[i+1] + "/"; got != want {
			t.Errorf("next from %s led to %s, want %s", lessons[i], got, want)
		}
		if i == 2 {
			screenshot(t, ctx, "lesson-zh")
		}
	}
}

// TestSiteCourseData: schema.org Course JSON-LD on the course and a lesson.
func TestSiteCourseData(t *testing.T) {
	ctx, l := newBrowser(t), siteLabd(t)
	lesson := courseLessons(t)[0]
	for _, c := range []struct{ path, partOf string }{
		{"/en/courses/ceph-ops/", ""},
		{"/zh/" + lesson + "/", "ceph-ops"},
	} {
		openPage(t, ctx, l.url+c.path, "main h1")
		var ld struct {
			Context  string `json:"@context"`
			Type     string `json:"@type"`
			Name     string `json:"name"`
			Code     string `json:"courseCode"`
			Time     string `json:"timeRequired"`
			Language string `json:"inLanguage"`
			PartOf   struct {
				Type string `json:"@type"`
				Code string `json:"courseCode"`
			} `json:"isPartOf"`
		}
		raw := get(t, ctx, chromedp.Evaluate[string](`document.querySelector('script[type="application/ld+json"]').textContent`))
		if err := json.Unmarshal([]byte(raw), &ld); err != nil {
			t.Fatalf("%s: JSON-LD: %v\n%s", c.path, err, raw)
		}
		h1 := get(t, ctx, chromedp.Text(chromedp.CSS("main h1")))
		if ld.Context != "https://schema.org" || ld.Type != "Course" || ld.Name != h1 || !strings.HasPrefix(ld.Time, "PT") || ld.Language == "" {
			t.Errorf("%s: JSON-LD %+v, want a schema.org Course named %q with timeRequired and inLanguage", c.path, ld, h1)
		}
		if c.partOf == "" && ld.Code != "ceph-ops" {
			t.Errorf("%s: courseCode %q, want ceph-ops", c.path, ld.Code)
		}
		if c.partOf != "" && (ld.PartOf.Type != "Course" || ld.PartOf.Code != c.partOf) {
			t.Errorf("%s: isPartOf %+v, want the course %s", c.path, ld.PartOf, c.partOf)
		}
	}
}

// TestSiteSearch: the header's box leads to the search page, Pagefind loads
// only then, and its Chinese index finds the health-check article.
func TestSiteSearch(t *testing.T) {
	ctx, l := newBrowser(t), siteLabd(t)
	openPage(t, ctx, l.url+"/zh/", "#site-q")
	pagefindBefore := get(t, ctx, chromedp.Evaluate[bool](`performance.getEntriesByType("resource").some(e => e.name.includes("/pagefind/"))`))
	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#site-q"), "健康检查"),
		chromedp.Submit(chromedp.CSS("#site-q")),
		chromedp.WaitVisible(chromedp.CSS(`#results a[href="/zh/kb/health-check-procedure/"]`)),
	)
	if err != nil {
		screenshot(t, ctx, "failed-search")
		t.Fatalf("searching 健康检查 did not find /zh/kb/health-check-procedure/: %v", err)
	}
	screenshot(t, ctx, "search-zh")
	if pagefindBefore {
		t.Error("the home page loaded Pagefind before anyone searched")
	}
	if get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#results mark").length`)) == 0 {
		t.Error("no highlighted hit in the results' excerpts")
	}
}

// TestSiteLabPageSignedOut: the lab page shows its steps and, without a
// session, a sign-in link that returns to it.
func TestSiteLabPageSignedOut(t *testing.T) {
	ctx, l := newBrowser(t), siteLabd(t)
	openPage(t, ctx, l.url+"/zh/labs/linux-basics/", "#signin")
	href := get(t, ctx, chromedp.AttributeValue(chromedp.CSS("#signin-link"), "href")).Value
	if want := "/zh/login/?next=" + url.QueryEscape("/zh/labs/linux-basics/"); href != want {
		t.Errorf("sign-in link %q, want %q", href, want)
	}
	if get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#steps > li .step-text").length`)) == 0 {
		t.Error("the lab page shows no step text")
	}
	screenshot(t, ctx, "lab-signed-out")
}

// TestSiteAccessibility: axe-core finds nothing on each kind of page, in
// light and dark.
func TestSiteAccessibility(t *testing.T) {
	ctx, l := newBrowser(t), siteLabd(t)
	lesson := courseLessons(t)[2]
	for _, p := range []struct{ path, name string }{
		{"/zh/", "a11y-home-zh"},
		{"/en/", "a11y-home-en"},
		{"/zh/" + lesson + "/", "a11y-lesson-zh"},
		{"/en/" + lesson + "/", "a11y-lesson-en"},
		{"/en/courses/", "a11y-catalogue-en"},
		{"/zh/courses/ceph-ops/", "a11y-course-zh"},
		{"/zh/kb/health-check-procedure/", "a11y-article-zh"},
		{"/en/kb/", "a11y-kb-en"},
		{"/zh/topics/health-check/", "a11y-topic-zh"},
		{"/zh/services/", "a11y-services-zh"},
		{"/en/services/onsite-assurance/", "a11y-service-en"},
		{"/en/labs/", "a11y-labs-en"},
		{"/zh/labs/ceph-health/", "a11y-lab-zh"},
		{"/en/search/?q=health", "a11y-search-en"},
	} {
		assertAccessible(t, ctx, l.url+p.path, p.name)
	}
	// Dark mode: the same rules, contrast included, in the other scheme.
	colorScheme(t, ctx, "dark")
	defer colorScheme(t, ctx, "")
	for _, p := range []struct{ path, name string }{
		{"/zh/", "a11y-dark-home-zh"},
		{"/en/" + lesson + "/", "a11y-dark-lesson-en"},
		{"/zh/kb/health-check-procedure/", "a11y-dark-article-zh"},
		{"/en/labs/ceph-health/", "a11y-dark-lab-en"},
	} {
		assertAccessible(t, ctx, l.url+p.path, p.name)
	}
}

// TestSiteVerifyPageAccessible: labd's certificate verify page /v/<code>,
// for a valid certificate in both languages and for an unknown code, passes
// the same axe rules as the site.
func TestSiteVerifyPageAccessible(t *testing.T) {
	ctx := newBrowser(t)
	l := siteLabd(t)
	db, err := sqlite.Open(context.Background(), filepath.Join(l.data, "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys, err := certificate.OpenKeys(filepath.Join(l.data, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	svc := certificate.NewService(db, keys, certificate.Issuer{URL: l.url, Name: issuerName})
	c, err := svc.Issue(context.Background(), certificate.Request{
		Program: certificate.Program{ID: "storage-ops",
			Name:        certificate.Text{ZH: "分布式存储运维工程师", EN: "Distributed Storage Operations Engineer"},
			Description: certificate.Text{ZH: "运维分布式存储。", EN: "Operates distributed storage."},
			Criteria:    certificate.Text{ZH: "通过实验和考试。", EN: "Pass the labs and the exam."},
			Validity:    730 * 24 * time.Hour},
		Subject: certificate.Subject{UserID: "u-verify", Name: "张伟"},
		Results: []certificate.Result{{Name: certificate.Text{ZH: "考试", EN: "Exam"}, Score: 91, PassMark: 70}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"zh", "en"} {
		assertAccessible(t, ctx, l.url+"/v/"+c.Code+"?lang="+lang, "a11y-verify-"+lang)
	}
	// An unknown code is a 404, which the browser logs.
	allowConsole(ctx, regexp.MustCompile(`status of 404 .*/v/AAAAAAAAAAAAAAAAAAAA\?`))
	assertAccessible(t, ctx, l.url+"/v/AAAAAAAAAAAAAAAAAAAA?lang=en", "a11y-verify-unknown")
}

// TestSiteStrictBuild builds the real layouts over small content trees: a
// valid one builds, and each broken page fails the build with its file and
// field (content/README.md's rules).
func TestSiteStrictBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Hugo (run without -short)")
	}
	if _, err := os.Stat("../site/node_modules/@xterm/xterm"); err != nil {
		t.Fatal("site/node_modules is missing: run make site (make test does)")
	}
	valid := map[string]string{
		"_index.md":                 "---\ntitle: Home\n---\n",
		"courses/_index.md":         "---\ntitle: Courses\ndescription: All.\n---\n",
		"courses/c1/_index.md":      "---\ntitle: C1\ndescription: A course.\nlevel: beginner\nduration: 2h\nobjectives: [a]\nprerequisites: []\nprogram: storage-ops\n---\n",
		"courses/c1/01-m/_index.md": "---\ntitle: M1\ndescription: A module.\nweight: 1\n---\n",
		"courses/c1/01-m/01-a.md":   "---\ntitle: A\ndescription: Lesson a.\nweight: 1\nduration: 30m\nlevel: beginner\nobjectives: [x, y]\nlabs: [linux-basics]\n---\nText.\n",
		"courses/c1/01-m/02-b.md":   "---\ntitle: B\ndescription: Lesson b.\nweight: 2\nduration: 1h\nlevel: beginner\nobjectives: [x, y]\n---\nText.\n",
		"kb/_index.md":              "---\ntitle: KB\ndescription: Articles.\n---\n",
		"kb/a1.md":                  "---\ntitle: A1\ndescription: An article.\ndate: 2026-11-01\nproducts: [xsky-sds]\ntopics: [health-check]\nseverity: low\nsymptoms: []\nrelated: [kb/a2]\n---\nText.\n",
		"kb/a2.md":                  "---\ntitle: A2\ndescription: Another.\ndate: 2026-11-02\nproducts: [xsky-block]\ntopics: [tuning]\nseverity: info\nsymptoms: [slow]\n---\nText.\n",
		"kb/zh-only.md":             "---\ntitle: Z\ndescription: Only in Chinese.\ndate: 2026-11-03\nproducts: [xsky-sds]\ntopics: [network]\nseverity: info\nsymptoms: []\n---\nText.\n",
		"services/_index.md":        "---\ntitle: Services\ndescription: All.\n---\n",
		"services/s1.md":            "---\ntitle: S1\ndescription: A service.\nweight: 1\nsummary_points: [p]\n---\n",
		"labs/_content.gotmpl":      `{{ partial "labs/adapter.html" . }}`,
	}
	for _, c := range []struct {
		name, file, from, to, want string
	}{
		{"valid", "", "", "", ""},
		{"lesson without duration", "courses/c1/01-m/02-b.md", "duration: 1h\n", "", `content/en/courses/c1/01-m/02-b.md: missing required front matter field "duration"`},
		{"lesson with one objective", "courses/c1/01-m/02-b.md", "objectives: [x, y]", "objectives: [x]", `content/en/courses/c1/01-m/02-b.md: objectives: want 2 to 5 items, have 1`},
		{"course without program", "courses/c1/_index.md", "program: storage-ops\n", "", `content/en/courses/c1/_index.md: missing required front matter field "program"`},
		{"unknown lab", "courses/c1/01-m/01-a.md", "labs: [linux-basics]", "labs: [no-such-lab]", `content/en/courses/c1/01-m/01-a.md: labs: no lab "no-such-lab" in labs/`},
		{"article without symptoms", "kb/a2.md", "symptoms: [slow]\n", "", `content/en/kb/a2.md: missing required front matter field "symptoms"`},
		{"bad severity", "kb/a1.md", "severity: low", "severity: urgent", `content/en/kb/a1.md: severity "urgent"`},
		{"unknown topic", "kb/a1.md", "topics: [health-check]", "topics: [health]", `content/en/kb/a1.md: topics: unknown topic "health"`},
		{"related page missing", "kb/a1.md", "related: [kb/a2]", "related: [kb/a3]", `content/en/kb/a1.md: related: no page "kb/a3"`},
		{"service without summary points", "services/s1.md", "summary_points: [p]\n", "", `content/en/services/s1.md: missing required front matter field "summary_points"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, lang := range []string{"zh", "en"} {
				for name, text := range valid {
					if name == c.file && lang == "en" {
						if !strings.Contains(text, c.from) {
							t.Fatalf("%s has no %q", name, c.from)
						}
						text = strings.Replace(text, c.from, c.to, 1)
					}
					if name == "kb/zh-only.md" && lang == "en" {
						continue
					}
					path := filepath.Join(dir, "content", lang, name)
					os.MkdirAll(filepath.Dir(path), 0o755)
					if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			conf := filepath.Join(dir, "test.toml")
			os.WriteFile(conf, []byte(fmt.Sprintf("[languages.zh]\ncontentDir = %q\n[languages.en]\ncontentDir = %q\n",
				filepath.Join(dir, "content", "zh"), filepath.Join(dir, "content", "en"))), 0o644)
			cmd := exec.Command("go", "tool", "hugo", "--panicOnWarning", "--logLevel", "error",
				"--config", "hugo.toml,"+conf, "--destination", filepath.Join(dir, "public"), "--cacheDir", filepath.Join(dir, "cache"))
			cmd.Dir = "../site"
			out, err := cmd.CombinedOutput()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("the valid tree did not build: %v\n%s", err, out)
			case c.want == "":
				if _, err := os.Stat(filepath.Join(dir, "public", "en", "courses", "c1", "01-m", "02-b", "index.html")); err != nil {
					t.Errorf("the valid tree built no lesson page: %v", err)
				}
				// A page with no translation: the switch leads to its section's.
				page, err := os.ReadFile(filepath.Join(dir, "public", "zh", "kb", "zh-only", "index.html"))
				if err != nil {
					t.Fatal(err)
				}
				if want := `<a href="/en/kb/" hreflang="en" lang="en" data-lang-switch>`; !strings.Contains(string(page), want) {
					t.Errorf("the zh-only page's language switch is not %s", want)
				}
			case err == nil:
				t.Fatalf("the build passed; want it to fail with %q", c.want)
			case !strings.Contains(string(out), c.want):
				t.Errorf("the build failed without %q:\n%s", c.want, out)
			}
		})
	}
}

// assertAccessible opens pageURL, saves a screenshot as name, and fails the
// test with every violation axe-core finds under the WCAG 2.2 AA tags. Any
// page labd serves can be checked with it: the verify page /v/<code> too.
func assertAccessible(t *testing.T, ctx context.Context, pageURL, name string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatalf("%s: %v", pageURL, err)
	}
	assertAccessibleNow(t, ctx, pageURL, name)
}

// assertAccessibleNow is assertAccessible on the page as it is now (after
// a script has filled it in), pageURL only naming it.
func assertAccessibleNow(t *testing.T, ctx context.Context, pageURL, name string) {
	t.Helper()
	src, err := os.ReadFile("../site/node_modules/axe-core/axe.min.js")
	if err != nil {
		t.Fatalf("axe-core is not installed (%v): run make site (npm ci in site/)", err)
	}
	quoted, _ := json.Marshal(string(src))
	if err := chromedp.Do(ctx, evaluate("(0, eval)("+string(quoted)+")")); err != nil {
		t.Fatalf("%s: %v", pageURL, err)
	}
	tags, _ := json.Marshal(axeTags)
	report, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag", values: `+string(tags)+`}}).then(r => JSON.stringify({violations: r.violations, passes: r.passes.length}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe: %v", pageURL, err)
	}
	screenshot(t, ctx, name)
	var result struct {
		Passes     int `json:"passes"`
		Violations []struct {
			ID     string `json:"id"`
			Impact string `json:"impact"`
			Help   string `json:"help"`
			Nodes  []struct {
				Target []any  `json:"target"`
				HTML   string `json:"html"`
			} `json:"nodes"`
		} `json:"violations"`
	}
	if err := json.Unmarshal([]byte(report), &result); err != nil {
		t.Fatalf("%s: axe report: %v", pageURL, err)
	}
	if result.Passes == 0 {
		t.Errorf("%s: axe checked nothing", pageURL)
	}
	t.Logf("%s: axe: %d rules passed, %d violated", pageURL, result.Passes, len(result.Violations))
	for _, v := range result.Violations {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprintf("%v %s", n.Target, n.HTML))
		}
		t.Errorf("%s: axe %s (%s): %s\n\t%s", pageURL, v.ID, v.Impact, v.Help, strings.Join(where, "\n\t"))
	}
}

// colorScheme makes the browser prefer a "dark" or "light" colour scheme, or
// its own again ("").
func colorScheme(t *testing.T, ctx context.Context, scheme string) {
	t.Helper()
	var features []*emulation.MediaFeature
	if scheme != "" {
		features = append(features, &emulation.MediaFeature{Name: "prefers-color-scheme", Value: scheme})
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: features}); err != nil {
		t.Fatalf("emulate prefers-color-scheme %q: %v", scheme, err)
	}
}

// courseLessons lists the course's lessons in reading order by their files
// (modules and lessons are numbered), as paths below /<lang>/.
func courseLessons(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob("../content/zh/courses/ceph-ops/*/*.md")
	var lessons []string
	for _, f := range files {
		if filepath.Base(f) == "_index.md" {
			continue
		}
		rel, _ := filepath.Rel("../content/zh", f)
		lessons = append(lessons, strings.TrimSuffix(filepath.ToSlash(rel), ".md"))
	}
	sort.Strings(lessons)
	if len(lessons) < 4 {
		t.Fatalf("the course ceph-ops has %d lessons in content/zh/courses/ceph-ops/: want its modules and lessons", len(lessons))
	}
	return lessons
}

func labCount(t *testing.T) int {
	t.Helper()
	labs, _ := filepath.Glob("../labs/*/lab.yaml")
	return len(labs)
}

func swapLang(path string) string {
	if rest, ok := strings.CutPrefix(path, "/zh/"); ok {
		return "/en/" + rest
	}
	return "/zh/" + strings.TrimPrefix(path, "/en/")
}

// openPage loads pageURL and waits until sel is visible.
func openPage(t *testing.T, ctx context.Context, pageURL, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL), chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		screenshot(t, ctx, "failed-open")
		t.Fatalf("%s: %s: %v", pageURL, sel, err)
	}
}

// clickAndWait clicks a link and returns the page's URL once it is want, or
// whatever it is after ten seconds.
func clickAndWait(t *testing.T, ctx context.Context, sel, want string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		got, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState == "complete" ? location.href : ""`))
		if got == want {
			break
		}
	}
	return got
}

// get runs one action for its result.
func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/xsky-academy/academy/labd/internal/sitecheck"
)

// siteFigures measures the portal (issue 4): Hugo's build time per page for
// the real site and for one grown to about 2,000 pages, the pages' weights,
// and Lighthouse's scores for the home, a lesson and a lab page served by labd.
func siteFigures(bin, tmp, instance string) error {
	fmt.Println("site:")
	real, err := hugoBuild(tmp, "content", 3)
	if err != nil {
		return err
	}
	report(figure{name: "Hugo build, real site", value: real.String(), target: "report"})

	grown := filepath.Join(tmp, "content-2000")
	if err := growContent(grown, 2000); err != nil {
		return err
	}
	big, err := hugoBuild(tmp, grown, 3)
	if err != nil {
		return err
	}
	report(figure{name: "Hugo build, generated site", value: big.String(), baseline: "real " + real.perPage(),
		ratio: fmt.Sprintf("%.2f", big.msPerPage()/real.msPerPage()), target: "report"})

	pages, err := sitecheck.Pages("site/public")
	if err != nil {
		return err
	}
	pick := map[string]string{
		"home": "/zh/", "lesson": "/zh/courses/ceph-ops/02-data-placement/02-pools-pgs/",
		"article": "/zh/kb/health-check-procedure/", "lab": "/zh/labs/ceph-health/",
	}
	for _, kind := range []string{"home", "lesson", "article", "lab"} {
		found := sitecheck.Find(pages, pick[kind])
		if len(found) == 0 {
			return fmt.Errorf("site/public has no %s (make site first)", pick[kind])
		}
		w, err := sitecheck.PageWeight("site/public", found[0])
		if err != nil {
			return err
		}
		target := "≤ 150 KB first load"
		if kind == "lesson" {
			target = "HTML ≤ 30 KB, ≤ 150 KB"
		}
		if kind != "lab" {
			target += ", JS ≤ 30 KB"
		}
		report(figure{name: "page weight gz, " + kind, target: target,
			value: fmt.Sprintf("%.1f KB (HTML %.1f, CSS %.1f, JS %.1f)", kb(w.Total()), kb(w.HTML), kb(w.CSS), kb(w.JS))})
	}

	l, err := startLabd(bin, filepath.Join(tmp, "data-site"), instance+"s", "--site", "site/public")
	if err != nil {
		return err
	}
	defer l.stop()
	for _, kind := range []string{"home", "lesson", "lab"} {
		perf, a11y, err := lighthouse(l.url + pick[kind])
		if err != nil {
			return err
		}
		report(figure{name: "Lighthouse (mobile), " + kind, value: fmt.Sprintf("performance %.0f, accessibility %.0f", perf, a11y),
			target: "≥ 95 both"})
	}
	return nil
}

func kb(n int) float64 { return float64(n) / 1024 }

type hugoTime struct {
	pages  int
	median time.Duration
}

func (h hugoTime) msPerPage() float64 {
	return float64(h.median.Microseconds()) / 1000 / float64(h.pages)
}
func (h hugoTime) perPage() string { return fmt.Sprintf("%.2f ms/page", h.msPerPage()) }
func (h hugoTime) String() string {
	return fmt.Sprintf("%d pages, %s (%v)", h.pages, h.perPage(), h.median.Round(time.Millisecond))
}

// hugoBuild builds the site from a content tree (its zh and en folders)
// into a scratch folder, runs times, and returns the median.
func hugoBuild(tmp, content string, runs int) (hugoTime, error) {
	abs, err := filepath.Abs(content)
	if err != nil {
		return hugoTime{}, err
	}
	override := filepath.Join(tmp, "hugo-override.toml")
	conf := fmt.Sprintf("[languages.zh]\ncontentDir = %q\n[languages.en]\ncontentDir = %q\n",
		filepath.Join(abs, "zh"), filepath.Join(abs, "en"))
	if err := os.WriteFile(override, []byte(conf), 0o644); err != nil {
		return hugoTime{}, err
	}
	out := filepath.Join(tmp, "hugo-public")
	var times []time.Duration
	for range runs {
		os.RemoveAll(out)
		cmd := exec.Command("go", "tool", "hugo", "--minify", "--panicOnWarning", "--quiet",
			"--config", "hugo.toml,"+override, "-d", out)
		cmd.Dir = "site"
		start := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			return hugoTime{}, fmt.Errorf("hugo: %v\n%s", err, b)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	var pages int
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".html") {
			pages++
		}
		return nil
	})
	return hugoTime{pages: pages, median: times[len(times)/2]}, nil
}

// growContent copies the real content and adds generated courses and
// articles, shaped like the real ones, until there are about total pages.
func growContent(dir string, total int) error {
	if err := os.CopyFS(dir, os.DirFS("content")); err != nil {
		return err
	}
	body := strings.Repeat("Placement groups map objects to OSDs through CRUSH; each pool has its own. ", 40)
	bodyZH := strings.Repeat("归置组通过 CRUSH 把对象映射到 OSD，每个存储池各有一组归置组。", 30)
	write := func(p, front, text string) error {
		os.MkdirAll(filepath.Dir(p), 0o755)
		return os.WriteFile(p, []byte("---\n"+front+"---\n\n## Section\n\n"+text+"\n\n```console\n$ ceph -s\n```\n\n"+text+"\n"), 0o644)
	}
	perLang := total / 2
	for _, lang := range []string{"zh", "en"} {
		text := body
		if lang == "zh" {
			text = bodyZH
		}
		made := 0
		for c := 0; made < perLang*2/5; c++ {
			course := filepath.Join(dir, lang, "courses", fmt.Sprintf("gen-%02d", c))
			if err := write(filepath.Join(course, "_index.md"), fmt.Sprintf("title: Generated course %d\ndescription: d\nlevel: beginner\nduration: 10h\nobjectives: [a]\nprerequisites: []\nprogram: storage-ops\n", c), text); err != nil {
				return err
			}
			for m := 1; m <= 4; m++ {
				mod := filepath.Join(course, fmt.Sprintf("%02d-module", m))
				write(filepath.Join(mod, "_index.md"), fmt.Sprintf("title: Module %d\ndescription: d\nweight: %d\n", m, m), text)
				for les := 1; les <= 24; les++ {
					write(filepath.Join(mod, fmt.Sprintf("%02d-lesson.md", les)), fmt.Sprintf("title: Lesson %d.%d\ndescription: d\nweight: %d\nduration: 30m\nlevel: beginner\nobjectives: [a, b]\nlabs: [ceph-pool]\n", m, les, les), text)
					made++
				}
				made++
			}
			made++
		}
		for a := 0; made < perLang; a++ {
			if err := write(filepath.Join(dir, lang, "kb", fmt.Sprintf("gen-%04d.md", a)), fmt.Sprintf("title: Generated article %d\ndescription: d\ndate: 2026-11-01\nproducts: [xsky-sds]\ntopics: [health-check]\nseverity: low\nsymptoms: [s]\n", a), text); err != nil {
				return err
			}
			made++
		}
	}
	return nil
}

// lighthouse scores a page with the npm lighthouse (scripts/lighthouse) on
// Debian's Chromium, with its default mobile profile.
func lighthouse(url string) (perf, a11y float64, err error) {
	cmd := exec.Command("scripts/lighthouse/node_modules/.bin/lighthouse", url, "--quiet", "--output=json", "--output-path=stdout",
		"--only-categories=performance,accessibility",
		"--chrome-flags=--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking --disable-sync")
	cmd.Env = append(os.Environ(), "CHROME_PATH=/usr/bin/chromium")
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("lighthouse %s: %w (make bench installs it; see scripts/lighthouse)", url, err)
	}
	var r struct {
		Categories map[string]struct {
			Score float64 `json:"score"`
		} `json:"categories"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return 0, 0, fmt.Errorf("lighthouse %s: %w", url, err)
	}
	return r.Categories["performance"].Score * 100, r.Categories["accessibility"].Score * 100, nil
}

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/xsky-academy/academy/labd/internal/sitecheck"
)

// TestSiteGlossary: every page of the built site uses the glossary's terms
// (content/glossary.yaml) and none of the variants it lists, in both languages.
func TestSiteGlossary(t *testing.T) {
	pages := builtSite(t)
	g, err := sitecheck.LoadGlossary("../content/glossary.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range g.Check(pages) {
		t.Error(p)
	}
}

// TestSiteKBLabLinks: a knowledge-base article that links a lab in its text
// ("Try it: /zh/labs/ceph-pool/") links it in its own language and lists it
// in front matter, so that the lab's page links back to the article.
func TestSiteKBLabLinks(t *testing.T) {
	link := regexp.MustCompile(`\]\(/(zh|en)/labs/([a-z0-9-]+)/\)`)
	files, err := filepath.Glob("../content/*/kb/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no articles: %v", err)
	}
	var linked int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.SplitN(string(b), "---\n", 3)
		if len(parts) < 3 {
			continue // _index.md without front matter fences is not an article
		}
		var fm struct {
			Labs []string `yaml:"labs"`
		}
		if err := yaml.Unmarshal([]byte(parts[1]), &fm); err != nil {
			t.Errorf("%s: front matter: %v", f, err)
			continue
		}
		lang := filepath.Base(filepath.Dir(filepath.Dir(f)))
		for _, m := range link.FindAllStringSubmatch(parts[2], -1) {
			linked++
			if m[1] != lang {
				t.Errorf("%s: links /%s/labs/%s/ from the %s tree", f, m[1], m[2], lang)
			}
			if !slices.Contains(fm.Labs, m[2]) {
				t.Errorf("%s: links the lab %s but does not list it in labs: (its page would not link back)", f, m[2])
			}
			if _, err := os.Stat("../labs/" + m[2] + "/lab.yaml"); err != nil {
				t.Errorf("%s: links the lab %s, which labs/ does not have", f, m[2])
			}
		}
	}
	if linked == 0 {
		t.Error("no article links a lab in its text")
	}
}

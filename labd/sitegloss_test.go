package main

import (
	"testing"

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

package sitecheck

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// A Term is one entry of the glossary (content/glossary.yaml): the word a
// page uses in each language, and the variants it must not use instead.
type Term struct {
	Zh    string `yaml:"zh"`
	En    string `yaml:"en"`
	Avoid struct {
		Zh []string `yaml:"zh"`
		En []string `yaml:"en"`
	} `yaml:"avoid"`
}

// A Glossary is the site's terms, zh ↔ en.
type Glossary struct {
	Terms []Term `yaml:"terms"`

	rules map[string][]termRule // by language
}

type termRule struct {
	re  *regexp.Regexp
	why string
}

// LoadGlossary reads and checks a glossary file.
func LoadGlossary(file string) (*Glossary, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ParseGlossary(b)
}

// ParseGlossary decodes a glossary and compiles its rules. Unknown fields,
// an entry without both terms, and a variant inside a term (every right use
// would be reported) are errors.
func ParseGlossary(b []byte) (*Glossary, error) {
	var g Glossary
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("glossary: %w", err)
	}
	if len(g.Terms) == 0 {
		return nil, fmt.Errorf("glossary: no terms")
	}
	g.rules = map[string][]termRule{}
	seen := map[string]bool{}
	for i, t := range g.Terms {
		if strings.TrimSpace(t.Zh) == "" || strings.TrimSpace(t.En) == "" {
			return nil, fmt.Errorf("glossary: term %d: both zh and en are required", i+1)
		}
		for lang, v := range map[string]string{"zh": t.Zh, "en": t.En} {
			if seen[lang+v] {
				return nil, fmt.Errorf("glossary: %s term %q is listed twice", lang, v)
			}
			seen[lang+v] = true
		}
		for _, side := range []struct {
			lang, term string
			avoid      []string
		}{{"zh", t.Zh, t.Avoid.Zh}, {"en", t.En, t.Avoid.En}} {
			for _, v := range side.avoid {
				if strings.TrimSpace(v) == "" {
					return nil, fmt.Errorf("glossary: %s %q: an empty variant", side.lang, side.term)
				}
				for _, o := range g.Terms {
					if term := map[string]string{"zh": o.Zh, "en": o.En}[side.lang]; overlaps(side.lang, term, v) {
						return nil, fmt.Errorf("glossary: %s %q: the variant %q is part of the term %q, whose every use it would report", side.lang, side.term, v, term)
					}
				}
				// Chinese has no spaces between words: a variant is a
				// substring. English ones are whole words, any case.
				pat := regexp.QuoteMeta(v)
				if side.lang == "en" {
					pat = `(?i)\b` + pat + `\b`
				}
				g.rules[side.lang] = append(g.rules[side.lang], termRule{
					re:  regexp.MustCompile(pat),
					why: fmt.Sprintf("the glossary's term is %s (%s / %s), not %s", side.term, t.Zh, t.En, v),
				})
			}
		}
	}
	return &g, nil
}

// overlaps reports whether b occurs in a: a substring in Chinese, a whole
// word (any case) in English.
func overlaps(lang, a, b string) bool {
	if lang == "zh" {
		return strings.Contains(a, b)
	}
	return regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(b) + `\b`).MatchString(a)
}

// Check checks the text of every page below /zh/ and /en/ for the variants
// the glossary lists for that language. Code is not text (Page.Text), so
// commands and Ceph's own output may say what they say.
func (g *Glossary) Check(pages []*Page) []Problem {
	var problems []Problem
	for _, p := range pages {
		lang, _, _ := strings.Cut(strings.TrimPrefix(p.Path, "/"), "/")
		for _, text := range p.Text {
			for _, r := range g.rules[lang] {
				if r.re.MatchString(text) {
					problems = append(problems, Problem{p.Path, excerpt(text, r.re), r.why})
				}
			}
		}
	}
	return problems
}

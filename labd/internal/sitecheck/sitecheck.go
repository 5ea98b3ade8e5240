// Package sitecheck inspects the built portal (site/public): every internal
// link must resolve, pages must stay within their weight budgets, and the
// Chinese pages keep the site's terms and full-width punctuation. The
// test suite and the bench command both use it, so the figures they report
// are computed the same way.
package sitecheck

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// Served are path prefixes labd answers itself, outside the built site.
var Served = []string{"/api/", "/v/", "/.well-known/", "/status/", "/healthz", "/readyz", "/metrics"}

// A Problem is something wrong on a page: a broken link (Link is what it
// points at) or a wrong word (Link is the text it is in).
type Problem struct {
	Page, Link, Why string
}

func (p Problem) String() string { return p.Page + ": " + p.Link + ": " + p.Why }

// Page is one parsed HTML page of the site.
type Page struct {
	Path  string // URL path, e.g. /zh/kb/
	File  string // file under the site dir
	Links []string
	IDs   map[string]bool
	// Assets are what a browser fetches to show the page: stylesheets,
	// scripts, module preloads (not images: budgets exclude them).
	Assets []string
	Size   int
	// Text is what a reader sees or hears: the text outside scripts, styles
	// and code, and the attributes title, alt, aria-label and placeholder.
	Text []string
}

// Pages parses every HTML page under dir.
func Pages(dir string) ([]*Page, error) {
	var pages []*Page
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		urlPath := "/" + filepath.ToSlash(rel)
		if strings.HasSuffix(urlPath, "/index.html") {
			urlPath = strings.TrimSuffix(urlPath, "index.html")
		}
		pg, err := parse(p, urlPath)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		pages = append(pages, pg)
		return nil
	})
	return pages, err
}

func parse(file, urlPath string) (*Page, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	pg := &Page{Path: urlPath, File: file, IDs: map[string]bool{}, Size: len(b)}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			if t := strings.TrimSpace(n.Data); t != "" {
				pg.Text = append(pg.Text, t)
			}
		}
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
			}
			if id := attr["id"]; id != "" {
				pg.IDs[id] = true
			}
			if n.Data == "a" && attr["name"] != "" {
				pg.IDs[attr["name"]] = true
			}
			for _, k := range []string{"title", "alt", "aria-label", "placeholder"} {
				if v := strings.TrimSpace(attr[k]); v != "" {
					pg.Text = append(pg.Text, v)
				}
			}

			switch n.Data {
			case "a", "area":
				if v, ok := attr["href"]; ok {
					pg.Links = append(pg.Links, v)
				}
			case "link":
				if v, ok := attr["href"]; ok {
					pg.Links = append(pg.Links, v)
					if rel := attr["rel"]; rel == "stylesheet" || rel == "modulepreload" || rel == "preload" {
						pg.Assets = append(pg.Assets, v)
					}
				}
			case "script":
				if v, ok := attr["src"]; ok {
					pg.Links = append(pg.Links, v)
					pg.Assets = append(pg.Assets, v)
				}
			case "img", "source", "iframe", "audio", "video":
				if v, ok := attr["src"]; ok {
					pg.Links = append(pg.Links, v)
				}
				for _, c := range strings.Split(attr["srcset"], ",") {
					if f := strings.Fields(c); len(f) > 0 {
						pg.Links = append(pg.Links, f[0])
					}
				}
			case "form":
				if v, ok := attr["action"]; ok {
					pg.Links = append(pg.Links, v)
				}
			}
		}
		// Scripts, styles and code are not prose (a command keeps its ASCII
		// colon): their text is not the page's Text.
		code := n.Type == html.ElementNode && slices.Contains([]string{"script", "style", "pre", "code", "textarea", "template"}, n.Data)
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if !code || c.Type != html.TextNode {
				walk(c)
			}
		}
	}
	walk(doc)
	return pg, nil
}

// Links checks that every internal link of every page resolves to a file
// of the site (a fragment to an element of the page it names).
func Links(dir string, pages []*Page) []Problem {
	byPath := map[string]*Page{}
	for _, p := range pages {
		byPath[p.Path] = p
	}
	var problems []Problem
	for _, p := range pages {
		for _, link := range p.Links {
			if why := check(dir, byPath, p, link); why != "" {
				problems = append(problems, Problem{p.Path, link, why})
			}
		}
	}
	return problems
}

func check(dir string, byPath map[string]*Page, from *Page, link string) string {
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil {
		return "not a URL: " + err.Error()
	}
	if u.Scheme != "" || u.Host != "" {
		return "" // another site, or mailto: and the like
	}
	target := u.Path
	if target == "" {
		target = from.Path
	} else if !strings.HasPrefix(target, "/") {
		base := from.Path
		if !strings.HasSuffix(base, "/") {
			base = path.Dir(base) + "/"
		}
		target = path.Join(base, target)
		if strings.HasSuffix(u.Path, "/") && !strings.HasSuffix(target, "/") {
			target += "/"
		}
	}
	for _, s := range Served {
		if strings.HasPrefix(target, s) || target == strings.TrimSuffix(s, "/") {
			return ""
		}
	}
	file := filepath.Join(dir, filepath.FromSlash(target))
	st, err := os.Stat(file)
	if err == nil && st.IsDir() {
		file = filepath.Join(file, "index.html")
		if !strings.HasSuffix(target, "/") {
			target += "/"
		}
		_, err = os.Stat(file)
	}
	if err != nil {
		return "no such file in the site"
	}
	if u.Fragment != "" && strings.HasSuffix(file, ".html") {
		if pg := byPath[target]; pg != nil && !pg.IDs[u.Fragment] {
			return "no element with id " + u.Fragment
		}
	}
	return ""
}

// Weight is what a first visit to a page transfers, gzipped: the HTML and
// the stylesheets and scripts it loads (images excluded).
type Weight struct {
	HTML, CSS, JS int
}

// Total is the first-load weight.
func (w Weight) Total() int { return w.HTML + w.CSS + w.JS }

// PageWeight measures a page's first-load weight.
func PageWeight(dir string, p *Page) (Weight, error) {
	b, err := os.ReadFile(p.File)
	if err != nil {
		return Weight{}, err
	}
	w := Weight{HTML: Gzipped(b)}
	seen := map[string]bool{}
	for _, a := range p.Assets {
		u, err := url.Parse(a)
		if err != nil || u.Scheme != "" || u.Host != "" {
			continue
		}
		target := u.Path
		if !strings.HasPrefix(target, "/") {
			target = path.Join(path.Dir(p.Path+"x"), target)
		}
		if seen[target] {
			continue
		}
		seen[target] = true
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(target)))
		if err != nil {
			return Weight{}, fmt.Errorf("%s: asset %s: %w", p.Path, a, err)
		}
		switch {
		case strings.HasSuffix(target, ".css"):
			w.CSS += Gzipped(b)
		case strings.HasSuffix(target, ".js"), strings.HasSuffix(target, ".mjs"):
			w.JS += Gzipped(b)
		}
	}
	return w, nil
}

// Gzipped is the size of b compressed as labd serves it.
func Gzipped(b []byte) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Len()
}

// Find returns the pages whose path matches one of the patterns
// (path.Match syntax).
func Find(pages []*Page, patterns ...string) []*Page {
	var out []*Page
	for _, p := range pages {
		for _, pat := range patterns {
			if ok, _ := path.Match(pat, p.Path); ok {
				out = append(out, p)
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b *Page) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Chinese wording: the site's name and terms (revoked is 已吊销, as on the
// certificate and labd's verify page), and a full-width colon after Chinese
// text. A wrong word's text and why.
var zhWording = []struct {
	re  *regexp.Regexp
	why string
}{
	{regexp.MustCompile(`XSKY Academy`), "the site is XSKY 学院 in Chinese"},
	{regexp.MustCompile(`撤销`), "revoked is 已吊销 (the certificate's and the verify page's word)"},
	{regexp.MustCompile(`\p{Han}[)）]?:`), "a half-width colon after Chinese text: use ："},
}

// Wording checks the Chinese pages' text (below /zh/) against the site's
// terms and punctuation.
func Wording(pages []*Page) []Problem {
	var problems []Problem
	for _, p := range pages {
		if !strings.HasPrefix(p.Path, "/zh/") {
			continue
		}
		for _, text := range p.Text {
			for _, w := range zhWording {
				if w.re.MatchString(text) {
					problems = append(problems, Problem{p.Path, excerpt(text, w.re), w.why})
				}
			}
		}
	}
	return problems
}

// excerpt is the text around re's first match, for a problem's report.
func excerpt(text string, re *regexp.Regexp) string {
	loc := re.FindStringIndex(text)
	r := []rune(text)
	at := len([]rune(text[:loc[0]]))
	from, to := max(0, at-15), min(len(r), at+15)
	return strings.TrimSpace(string(r[from:to]))
}

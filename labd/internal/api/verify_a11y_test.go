package api

import (
	"bytes"
	"context"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/xsky-academy/academy/labd/internal/certificate"
)

// TestVerifyPageAccessible checks what WCAG asks of the verify page that a
// parser can see: the page's and the switch's language, one h1 and no
// skipped heading level, a name for every link, table headers with scope,
// no script, and text contrast of at least 4.5:1 for every colour pair the
// stylesheet sets.
func TestVerifyPageAccessible(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	c, _ := ts.api.Certificates.Issue(ctx, testCertRequest("alice", "Alice"))
	revoked, _ := ts.api.Certificates.Issue(ctx, testCertRequest("bob", "Bob"))
	ts.api.Certificates.Revoke(ctx, revoked.Code, "a reason")
	for _, path := range []string{"/v/" + certificate.Group(c.Code), "/v/" + certificate.Group(c.Code) + "?lang=en",
		"/v/" + certificate.Group(revoked.Code), "/v/AAAA-AAAA-AAAA-AAAA?lang=en"} {
		t.Run(path, func(t *testing.T) {
			r := ts.do(t, "GET", path, "", nil)
			doc, err := html.Parse(bytes.NewReader(r.body))
			if err != nil {
				t.Fatal(err)
			}
			var h1, last int
			var style string
			var walk func(n *html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.ElementNode {
					switch n.Data {
					case "html":
						if l := attr(n, "lang"); l != "zh-CN" && l != "en" {
							t.Errorf("html lang %q", l)
						}
					case "h1", "h2", "h3", "h4":
						level := int(n.Data[1] - '0')
						if level == 1 {
							h1++
						}
						if level > last+1 {
							t.Errorf("heading %s follows h%d", n.Data, last)
						}
						last = level
					case "a":
						if strings.TrimSpace(text(n)) == "" && attr(n, "aria-label") == "" {
							t.Errorf("a link without a name: %s", attr(n, "href"))
						}
						if attr(n, "hreflang") != "" && attr(n, "lang") == "" {
							t.Errorf("the language switch %q lacks lang", text(n))
						}
					case "th":
						if attr(n, "scope") == "" {
							t.Errorf("th %q without scope", text(n))
						}
					case "script":
						t.Error("the page has a script")
					case "style":
						style += text(n)
					}
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
			}
			walk(doc)
			if h1 != 1 {
				t.Errorf("%d h1, want 1", h1)
			}
			pairs := colourPairs(style)
			if len(pairs) < 8 {
				t.Errorf("only %d colour pairs found in the stylesheet: the check no longer reads it", len(pairs))
			}
			for _, p := range pairs {
				if ratio := contrast(p[0], p[1]); ratio < 4.5 {
					t.Errorf("%s on %s: contrast %.2f, want ≥ 4.5", p[0], p[1], ratio)
				}
			}
		})
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// colourPairs returns [text, background] for every rule that sets a colour:
// its own background, or else the page's and the cards' backgrounds.
func colourPairs(css string) [][2]string {
	hex := `#[0-9a-fA-F]{6}`
	page := regexp.MustCompile(`body\{[^}]*background:(` + hex + `)`).FindStringSubmatch(css)
	surfaces := []string{"#ffffff"}
	if page != nil {
		surfaces = append(surfaces, page[1])
	}
	var out [][2]string
	for _, rule := range regexp.MustCompile(`[^{}]+\{[^}]*\}`).FindAllString(css, -1) {
		fg := regexp.MustCompile(`(?:^|[;{])color:(` + hex + `)`).FindStringSubmatch(rule)
		if fg == nil {
			continue
		}
		if bg := regexp.MustCompile(`background:(` + hex + `)`).FindStringSubmatch(rule); bg != nil {
			out = append(out, [2]string{fg[1], bg[1]})
			continue
		}
		for _, s := range surfaces {
			out = append(out, [2]string{fg[1], s})
		}
	}
	return out
}

// contrast is the WCAG 2 contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	lum := func(c string) float64 {
		var rgb [3]float64
		for i := range 3 {
			v, _ := strconv.ParseUint(c[1+2*i:3+2*i], 16, 8)
			s := float64(v) / 255
			if s <= 0.03928 {
				rgb[i] = s / 12.92
			} else {
				rgb[i] = math.Pow((s+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2]
	}
	la, lb := lum(a), lum(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func TestContrast(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want float64
	}{{"#000000", "#ffffff", 21}, {"#ffffff", "#ffffff", 1}, {"#767676", "#ffffff", 4.54}} {
		if got := contrast(tc.a, tc.b); math.Abs(got-tc.want) > 0.01 {
			t.Errorf("contrast(%s, %s) = %.2f, want %.2f", tc.a, tc.b, got, tc.want)
		}
	}
	if n := len(colourPairs(`body{color:#111111;background:#f4f6f9}.x{color:#222222;background:#eeeeee}`)); n != 2 {
		t.Errorf("%d pairs, want 2", n)
	}
}

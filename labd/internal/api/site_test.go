package api

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

const hashedCSS = "css/site.min.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.css"

func siteFixture(t *testing.T) http.Handler {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"zh/index.html":                      "<!doctype html><title>首页</title>" + strings.Repeat("<p>存储</p>", 200),
		"zh/404.html":                        "<!doctype html><title>找不到</title>",
		"en/404.html":                        "<!doctype html><title>Not found</title>",
		"en/courses/index.html":              "<!doctype html><title>Courses</title>",
		hashedCSS:                            "body{color:#222}" + strings.Repeat(".a{margin:0}", 100),
		"pagefind/pagefind.js":               "export const x = 1;",
		"pagefind/index/zh_1a2b3c4.pf_index": "\x1f\x8b binary",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := newSite(dir, []string{"zh", "en"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(h http.Handler, method, target string, header ...string) *http.Response {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func TestSiteServing(t *testing.T) {
	h := siteFixture(t)
	tests := []struct {
		name         string
		method, path string
		header       []string
		status       int
		want         map[string]string // response headers
		body         string            // a substring of the decoded body
	}{
		{name: "page", method: "GET", path: "/zh/", status: 200,
			want: map[string]string{"Cache-Control": "no-cache", "Content-Type": "text/html; charset=utf-8"}, body: "首页"},
		{name: "hashed asset is immutable", method: "GET", path: "/" + hashedCSS, status: 200,
			want: map[string]string{"Cache-Control": "public, max-age=31536000, immutable"}, body: "color:#222"},
		{name: "pagefind chunk is immutable, not recompressed", method: "GET", path: "/pagefind/index/zh_1a2b3c4.pf_index",
			header: []string{"Accept-Encoding", "gzip"}, status: 200,
			want: map[string]string{"Cache-Control": "public, max-age=31536000, immutable", "Content-Encoding": ""}},
		{name: "unhashed script revalidates", method: "GET", path: "/pagefind/pagefind.js", status: 200,
			want: map[string]string{"Cache-Control": "no-cache"}},
		{name: "gzip", method: "GET", path: "/zh/", header: []string{"Accept-Encoding", "gzip, deflate"}, status: 200,
			want: map[string]string{"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}, body: "首页"},
		{name: "brotli preferred", method: "GET", path: "/" + hashedCSS, header: []string{"Accept-Encoding", "gzip, br"}, status: 200,
			want: map[string]string{"Content-Encoding": "br"}, body: "color:#222"},
		{name: "gzip refused with q=0", method: "GET", path: "/zh/", header: []string{"Accept-Encoding", "gzip;q=0"}, status: 200,
			want: map[string]string{"Content-Encoding": ""}},
		{name: "404 in English", method: "GET", path: "/en/nope/", status: 404,
			want: map[string]string{"Cache-Control": "no-store"}, body: "Not found"},
		{name: "404 defaults to Chinese", method: "GET", path: "/nope.html", status: 404, body: "找不到"},
		{name: "no escape from the root", method: "GET", path: "/../../etc/passwd", status: 404, body: "找不到"},
		{name: "directory gets its slash", method: "GET", path: "/en/courses", status: 301,
			want: map[string]string{"Location": "/en/courses/"}},
		{name: "home by Accept-Language", method: "GET", path: "/", header: []string{"Accept-Language", "en-GB,en;q=0.9,zh;q=0.5"}, status: 302,
			want: map[string]string{"Location": "/en/"}},
		{name: "home defaults to zh", method: "GET", path: "/", header: []string{"Accept-Language", "fr"}, status: 302,
			want: map[string]string{"Location": "/zh/"}},
		{name: "zh ranked higher", method: "GET", path: "/", header: []string{"Accept-Language", "en;q=0.4, zh-CN"}, status: 302,
			want: map[string]string{"Location": "/zh/"}},
		{name: "POST refused", method: "POST", path: "/zh/", status: 405, want: map[string]string{"Allow": "GET, HEAD"}},
		{name: "security headers", method: "GET", path: "/zh/", status: 200,
			want: map[string]string{"X-Content-Type-Options": "nosniff", "Content-Security-Policy": siteCSP}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(h, tt.method, tt.path, tt.header...)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			for k, v := range tt.want {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if tt.body == "" {
				return
			}
			raw, _ := io.ReadAll(res.Body)
			body := decode(t, res.Header.Get("Content-Encoding"), raw)
			if !strings.Contains(body, tt.body) {
				t.Errorf("body %.80q lacks %q", body, tt.body)
			}
			if cl := res.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(raw)) {
				t.Errorf("Content-Length %s, body %d bytes", cl, len(raw))
			}
		})
	}
}

func TestSiteConditionalAndHead(t *testing.T) {
	h := siteFixture(t)
	res := get(h, "GET", "/zh/")
	lm := res.Header.Get("Last-Modified")
	if lm == "" {
		t.Fatal("no Last-Modified")
	}
	if res := get(h, "GET", "/zh/", "If-Modified-Since", lm); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since: %d, want 304", res.StatusCode)
	}
	res = get(h, "HEAD", "/zh/", "Accept-Encoding", "gzip")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || len(body) != 0 || res.Header.Get("Content-Length") == "0" {
		t.Errorf("HEAD: %d, %d body bytes, Content-Length %s", res.StatusCode, len(body), res.Header.Get("Content-Length"))
	}
}

func decode(t *testing.T, enc string, raw []byte) string {
	t.Helper()
	var r io.Reader = bytes.NewReader(raw)
	switch enc {
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s: %v", enc, err)
	}
	return string(b)
}

package sitecheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLinks(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"zh/index.html": `<a href="/zh/kb/">kb</a><a href="kb/a/">rel</a><a href="/en/">en</a>
			<a href="https://example.invalid/">out</a><a href="mailto:x@y">mail</a><a href="/v/ABC">verify</a>
			<a href="/api/me">api</a><a href="#top">top</a><h1 id="top">t</h1>
			<link rel="stylesheet" href="/css/a.css"><script src="/js/a.js"></script>`,
		"zh/kb/index.html":      `<a href="a/#step-2">frag ok</a><a href="../missing/">broken</a><a href="a/#nope">bad frag</a>`,
		"zh/kb/a/index.html":    `<h2 id="step-2">2</h2><img src="pic.png" srcset="pic.png 1x, gone.png 2x">`,
		"zh/kb/a/pic.png":       "png",
		"en/index.html":         `<a href="/en/courses">no slash is fine</a><a href="/zh/kb/a/">zh</a>`,
		"en/courses/index.html": `<form action="/zh/nope/"></form>`,
		"css/a.css":             "body{}",
		"js/a.js":               "1",
	})
	pages, err := Pages(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range Links(dir, pages) {
		got = append(got, p.Page+" "+p.Link)
	}
	slices.Sort(got)
	want := []string{
		"/en/courses/ /zh/nope/",
		"/zh/kb/ ../missing/",
		"/zh/kb/ a/#nope",
		"/zh/kb/a/ gone.png",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPageWeight(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("abcdefghij", 1000)
	write(t, dir, map[string]string{
		"zh/index.html": `<link rel="stylesheet" href="/css/a.css"><script type="module" src="../js/a.js"></script>
			<script src="/js/a.js"></script><img src="/big.png">`,
		"css/a.css": big,
		"js/a.js":   big + "x",
		"big.png":   big,
	})
	pages, err := Pages(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := PageWeight(dir, pages[0])
	if err != nil {
		t.Fatal(err)
	}
	if w.HTML == 0 || w.CSS != Gzipped([]byte(big)) || w.JS != Gzipped([]byte(big+"x")) {
		t.Errorf("weight %+v: the script counted once, the image not at all", w)
	}
	if w.Total() != w.HTML+w.CSS+w.JS {
		t.Error("total")
	}
}

func TestWording(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"zh/index.html": `<title>XSKY 学院</title><p>紧急程度：高</p><p>主题: 网络</p>
			<pre><code>echo "Day 1: notes"</code></pre><p>运行 <code>ceph osd pool get 池:</code></p>
			<input placeholder="状态:">
			<p>Ceph: a note in English</p><span title="证书已撤销">x</span><p>欢迎来到 XSKY Academy</p>
			<script>const s = "中文:";</script>`,
		"en/index.html": `<p>Topics: network</p><p>XSKY Academy</p><p>主题: 网络</p>`,
	})
	pages, err := Pages(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range Wording(pages) {
		got = append(got, p.Page+" "+p.Link)
	}
	slices.Sort(got)
	want := []string{
		"/zh/ 主题: 网络",
		"/zh/ 欢迎来到 XSKY Academy",
		"/zh/ 状态:",
		"/zh/ 证书已撤销",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

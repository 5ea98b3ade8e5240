package sitecheck

import (
	"slices"
	"strings"
	"testing"
)

func TestGlossaryCheck(t *testing.T) {
	g, err := ParseGlossary([]byte(`terms:
  - {zh: 归置组, en: placement group, avoid: {zh: [放置组], en: [placement-groups]}}
  - {zh: 时钟偏差, en: clock skew, avoid: {zh: [时间偏差], en: [clock drift]}}
  - {zh: 重新均衡, en: rebalance, avoid: {zh: [再平衡], en: []}}
`))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"zh/kb/a/index.html": `<p>每个放置组都有主 OSD</p><p>归置组处于降级状态</p>
			<pre><code>时间偏差 in a command is fine</code></pre><p>扩容后的再平衡</p>
			<span title="时间偏差过大">x</span><p>clock drift in a zh page is not checked</p>`,
		"en/kb/a/index.html": `<p>Clock Drift between monitors</p><p>a clock skew</p>
			<p>placement-groups-ish</p><code>clock drift</code><p>clock drifting</p>
			<p>放置组 in an en page is not checked</p>`,
	})
	pages, err := Pages(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range g.Check(pages) {
		got = append(got, p.Page+" "+p.Link)
	}
	slices.Sort(got)
	want := []string{
		"/en/kb/a/ Clock Drift bet", // the excerpt: 15 characters from the match
		"/en/kb/a/ placement-group",
		"/zh/kb/a/ 扩容后的再平衡",
		"/zh/kb/a/ 时间偏差过大",
		"/zh/kb/a/ 每个放置组都有主 OSD",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseGlossaryErrors(t *testing.T) {
	for name, src := range map[string]string{
		"no terms":        `terms: []`,
		"unknown field":   `terms: [{zh: 副本, en: replica, avoid: {zh: [复本]}, note: x}]`,
		"no en":           `terms: [{zh: 副本}]`,
		"twice":           `terms: [{zh: 副本, en: replica}, {zh: 副本, en: copy}]`,
		"variant in term": `terms: [{zh: 深度清洗, en: deep scrub, avoid: {zh: [清洗]}}]`,
		"in another term": `terms: [{zh: 清洗, en: scrub, avoid: {en: [deep]}}, {zh: 深度清洗, en: deep scrub}]`,
		"empty variant":   `terms: [{zh: 副本, en: replica, avoid: {en: [" "]}}]`,
		"not yaml":        `terms: {`,
	} {
		if _, err := ParseGlossary([]byte(src)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A variant may contain its term: "hard disk" reports no right "disk".
	if _, err := ParseGlossary([]byte(`terms: [{zh: 磁盘, en: disk, avoid: {zh: [硬盘], en: [hard disk]}}]`)); err != nil {
		t.Error(err)
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The lab format's Killercoda syntax in the site: small lab trees built by
// Hugo as make site builds the real one.

// fmtLab is a lab that uses every piece of the syntax; its zh texts are
// copies of en.
var fmtLab = map[string]string{
	"lab.yaml": `id: fmt-demo
title: {zh: 格式演示, en: Format demo}
duration: 10m
source_lang: en
untranslated: [zh]
foreground: {node: node1, run: "echo lab-fg-$((6*7))"}
nodes:
  - {name: node1, image: academy/base, terminal: true}
  - {name: node2, image: academy/base}
  - {name: node3, image: academy/base, terminal: true}
steps:
  - id: first
    title: {zh: 第一步, en: First}
    text: steps/01
    check: {node: node1, run: "test -f /root/one || { echo 'FAIL: /root/one is missing'; exit 1; }"}
    solution: scripts/solve.sh
  - id: second
    title: {zh: 第二步, en: Second}
    text: steps/02
    check: {node: node1, run: "test -f /root/two-ready"}
    solution: scripts/solve.sh
    on_enter:
      - {node: node1, run: "echo on-enter-ran > /root/two-ready"}
    foreground: {node: node1, script: scripts/foreground.sh}
`,
	"scripts/solve.sh":      "#!/bin/sh\ntouch /root/one\n",
	"scripts/foreground.sh": "#!/bin/sh\ncat /root/two-ready\n",
	"steps/01.en.md": "Run `ls -l /tmp`{{exec}} and `top`{{exec interrupt}}, copy `a<b & \"c\"`{{copy}}, just `plain`{{}},\n" +
		"on terminal 2 `hostname`{{execute T2}} and host 3 `uptime`{{execute HOST3}}, `date`{{execute interrupt}}.\n\n" +
		"```\ntouch /root/one\necho exec-$((20+1))\n```{{exec}}\n\n" +
		"```sh\necho untagged\n```\n\n" +
		"1. In a list:\n\n   ```bash\n   cat /etc/hostname\n   ```{{copy}}\n\n" +
		"Open [the dashboard](https://{{TRAFFIC_HOST1_8080}}/ui) or {{TRAFFIC_SELECTOR}}.\n\n" +
		"![A diagram](./diagram.svg)\n\nA [normal link](https://example.org/x).\n",
	"steps/02.en.md":    "Wait: `sleep 600`{{exec}}. Enough: `echo after-$((1+1))`{{exec interrupt}}\n",
	"steps/diagram.svg": `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>`,
}

// buildLabSite writes a site of the labs given (folder -> file -> text;
// a zh text is the en one when not given) and builds it with Hugo, as
// make site does. It returns the public folder, the labs folder and
// Hugo's output, with the build's error.
func buildLabSite(t *testing.T, labs map[string]map[string]string) (public, labsDir string, out []byte, err error) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs Hugo (run without -short)")
	}
	if _, err := os.Stat("../site/node_modules/@xterm/xterm"); err != nil {
		t.Fatal("site/node_modules is missing: run make site (make test does)")
	}
	dir := t.TempDir()
	write := func(path, text string) {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, lang := range []string{"zh", "en"} {
		c := filepath.Join(dir, "content", lang)
		write(filepath.Join(c, "_index.md"), "---\ntitle: Home\n---\n")
		write(filepath.Join(c, "labs", "_index.md"), "---\ntitle: Labs\ndescription: All.\n---\n")
		write(filepath.Join(c, "labs", "_content.gotmpl"), `{{ partial "labs/adapter.html" . }}`)
	}
	labsDir = filepath.Join(dir, "labs")
	for id, files := range labs {
		for name, text := range files {
			write(filepath.Join(labsDir, id, name), text)
			if zh, ok := strings.CutSuffix(name, ".en.md"); ok && files[zh+".zh.md"] == "" {
				write(filepath.Join(labsDir, id, zh+".zh.md"), text)
			}
		}
	}
	site, _ := filepath.Abs("../site")
	conf := filepath.Join(dir, "test.toml")
	write(conf, fmt.Sprintf(`[languages.zh]
contentDir = %q
[languages.en]
contentDir = %q
[module]
  [[module.mounts]]
    source = "assets"
    target = "assets"
  [[module.mounts]]
    source = %q
    target = "assets/vendor/xterm"
  [[module.mounts]]
    source = %q
    target = "assets/labs"
`, filepath.Join(dir, "content", "zh"), filepath.Join(dir, "content", "en"),
		filepath.Join(site, "node_modules/@xterm/xterm/css"), labsDir))
	public = filepath.Join(dir, "public")
	cmd := exec.Command("go", "tool", "hugo", "--panicOnWarning", "--logLevel", "error",
		"--config", "hugo.toml,"+conf, "--destination", public, "--cacheDir", filepath.Join(dir, "cache"))
	cmd.Dir = "../site"
	out, err = cmd.CombinedOutput()
	return public, labsDir, out, err
}

// TestFormatStepTexts: the site renders every piece of the syntax in a lab's
// step texts, in both languages.
func TestFormatStepTexts(t *testing.T) {
	public, _, out, err := buildLabSite(t, map[string]map[string]string{"fmt-demo": fmtLab})
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	page := func(lang string) string {
		b, err := os.ReadFile(filepath.Join(public, lang, "labs", "fmt-demo", "index.html"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	en, zh := page("en"), page("zh")
	for _, want := range []string{
		`<button type="button" class="exec inline" data-exec="ls -l /tmp" data-node=""><code>ls -l /tmp</code><span class="visually-hidden"> (Run)</span></button> and`,
		`data-exec="top" data-node="" data-interrupt><code>top</code>`,
		`<button type="button" class="copy inline" data-copy="a&lt;b &amp; &#34;c&#34;"><code>a&lt;b &amp; &quot;c&quot;</code><span class="visually-hidden"> (Copy)</span></button>,`,
		`just <code>plain</code>,`,
		`data-exec="hostname" data-node="node3"><code>hostname</code><span class="visually-hidden"> (Run on node3)</span>`,
		`data-exec="uptime" data-node="node3">`,
		`data-exec="date" data-node="" data-interrupt>`,
		// A block whose closing fence carries the tag: the block, and its button.
		"<div class=\"runnable\"><pre tabindex=\"0\"><code>touch /root/one\necho exec-$((20+1))</code></pre>" +
			"<button type=\"button\" class=\"exec\" data-exec=\"touch /root/one\necho exec-$((20&#43;1))\" data-node=\"\"><span aria-hidden=\"true\">▶</span> Run</button>",
		`<pre tabindex="0"><code class="language-sh">echo untagged</code></pre>`,
		`<div class="runnable"><pre tabindex="0"><code class="language-bash">cat /etc/hostname</code></pre><button type="button" class="copy" data-copy="cat /etc/hostname">Copy</button>`,
		`<span class="unavailable">the dashboard (opening the lab&#39;s web pages is not available yet)</span> or <span class="unavailable">(opening`,
		`<img src="/labs/fmt-demo/steps/diagram.svg" alt="A diagram" loading="lazy">`,
		`<a href="https://example.org/x">normal link</a>`,
	} {
		if !strings.Contains(en, want) {
			t.Errorf("the en page lacks %s", want)
		}
	}
	for _, bad := range []string{"{{exec", "{{copy", "{{execute", "{{TRAFFIC", "{{}}", "academy:", "```"} {
		if strings.Contains(en, bad) {
			t.Errorf("the en page still shows %q", bad)
		}
	}
	// zh is untranslated: the English text with a notice, marked as English.
	for _, want := range []string{`<p class="notice untranslated" role="note">本实验尚未译成中文，下面是英文原文。</p>`,
		`<div class="step-text" lang="en"><p>Run <button`, `(在 node3 上运行)`, `暂不支持在浏览器中打开实验的网页`} {
		if !strings.Contains(zh, want) {
			t.Errorf("the zh page lacks %s", want)
		}
	}
	if strings.Contains(en, "untranslated") || strings.Contains(en, `lang="en"><p>`) {
		t.Error("the en page, the source, says it is untranslated")
	}
	if b, err := os.ReadFile(filepath.Join(public, "labs", "fmt-demo", "steps", "diagram.svg")); err != nil || !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("the image beside the steps is not published: %v", err)
	}
}

// TestFormatStepTextsErrors: a command aimed at a terminal the lab does not
// have, or an image that is not there, fails the build, naming the lab.
func TestFormatStepTextsErrors(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"terminal out of range", "`ls`{{execute T3}}", "lab fmt-demo: {{execute T3}}: the lab has 2 terminals"},
		{"host without a terminal", "`ls`{{exec HOST2}}", "lab fmt-demo: {{exec HOST2}}: node node2 has no terminal"},
		{"unknown argument", "`ls`{{exec now}}", `lab fmt-demo: unknown {{exec}} argument "now"`},
		{"missing image", "![x](./nope.png)", `lab fmt-demo: image "nope.png" is not in labs/fmt-demo/steps/`},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range fmtLab {
				files[k] = v
			}
			files["steps/02.en.md"] = c.text + "\n"
			_, _, out, err := buildLabSite(t, map[string]map[string]string{"fmt-demo": files})
			if err == nil || !strings.Contains(string(out), c.want) {
				t.Errorf("build: %v, want it to fail with %q:\n%s", err, c.want, out)
			}
		})
	}
}

// TestFormatValidateWarns: labd validate accepts an untranslated lab, says
// so on one line, and exits 0.
func TestFormatValidateWarns(t *testing.T) {
	dir := t.TempDir()
	for name, text := range fmtLab {
		path := filepath.Join(dir, "fmt-demo", name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte(text), 0o644)
		if zh, ok := strings.CutSuffix(path, ".en.md"); ok {
			os.WriteFile(zh+".zh.md", []byte(text), 0o644)
		}
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"validate", "--certs", "", dir}, func(string) string { return "" }, &out, &errb)
	want := filepath.Join(dir, "fmt-demo", "lab.yaml") + ":5: untranslated: zh texts are copies of en\n" + dir + ": 1 labs ok\n"
	if code != 0 || out.String() != want {
		t.Errorf("validate: exit %d, output:\n%s%s\nwant exit 0 and:\n%s", code, out.String(), errb.String(), want)
	}
}

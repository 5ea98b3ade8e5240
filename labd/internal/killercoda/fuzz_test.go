package killercoda

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzConvert: whatever index.json holds, the conversion returns a lab or
// an error, never panics, and an error names the file it is about.
func FuzzConvert(f *testing.F) {
	f.Add(`{"title": "T", "details": {"intro": {"text": "intro.md"}, "steps": [{"title": "One", "text": "step1.md", "verify": "verify.sh", "background": "bg.sh", "foreground": "fg.sh"}], "finish": {"text": "intro.md"}, "assets": {"host01": [{"file": "**", "target": "~/"}]}}, "backend": {"imageid": "ubuntu"}}`)
	f.Add(`{"details": {"steps": [{"text": "step1.md"}, {"text": "step1.md", "courseData": "bg.sh", "code": "fg.sh"}]}, "backend": {"imageid": "kubernetes-kubeadm-2nodes"}}`)
	f.Add(`{"details": {"assets": {"host02": [{"file": "a/*", "target": "x", "chmod": "+x"}], "host09": []}}, "backend": {"imageid": "ubuntu:2004"}}`)
	f.Add(`{"backend": {"imageid": "minikube"}}`)
	f.Add(`{"details": {"steps": [{"text": "../x"}]}}`)
	f.Add(`[1, 2`)
	f.Add(`{"details": {"steps": "no"}}`)
	f.Fuzz(func(t *testing.T, index string) {
		src := fstest.MapFS{
			"s/index.json":     {Data: []byte(index)},
			"s/intro.md":       {Data: []byte("![i](i.png) `ls`{{exec}}\n")},
			"s/i.png":          {Data: []byte("png")},
			"s/step1.md":       {Data: []byte("```\napt-get install x\n```{{exec}}\n`ssh node01 id`{{execute HOST2}}\n")},
			"s/verify.sh":      {Data: []byte("test -f /x")},
			"s/bg.sh":          {Data: []byte("touch /x")},
			"s/fg.sh":          {Data: []byte("echo hi")},
			"s/assets/a/b.txt": {Data: []byte("b\n")},
			"s/assets/c.bin":   {Data: []byte{0, 1, 2}},
		}
		l, err := Convert(src, "s", Options{})
		if err != nil {
			var ref *RefusedError
			if !errors.As(err, &ref) && !strings.HasPrefix(err.Error(), "s/index.json: ") && !strings.HasPrefix(err.Error(), "lab id ") {
				t.Errorf("an error that names no file: %v", err)
			}
			return
		}
		if l.Steps < 1 || len(l.Verified) != l.Steps || l.Files["lab.yaml"] == nil {
			t.Errorf("a lab without steps or lab.yaml: %+v", l)
		}
	})
}

// FuzzMarkdown: any text parses and rewrites without panic; a rewrite that
// changes nothing gives the text back; demoting headings keeps the code.
func FuzzMarkdown(f *testing.F) {
	f.Add("`ls`{{exec}} ```\npwd\n```{{exec interrupt}} ![a](b.png) <img src=\"c.png\">")
	f.Add("```\nunclosed")
	f.Add("`x`{{execute HOST99 T2 interrupt}} [l](#a) [m](x.md#y)")
	f.Add("```{{exec}}\n```\n")
	f.Fuzz(func(t *testing.T, md string) {
		cmds, code := Parse(md)
		for _, c := range cmds {
			if c.Host < 1 || c.Line < 1 || c.Code == "" {
				t.Errorf("command %+v", c)
			}
		}
		for _, c := range code {
			if c.Line < 1 {
				t.Errorf("code line %+v", c)
			}
		}
		if got := RewriteLinks(md, func(target string, _ int) string { return target }); got != md {
			t.Errorf("an identity rewrite changed the text:\n%q\n%q", md, got)
		}
		// Demoting headings touches no code: the commands stay the same.
		d := Demote(md, 4)
		if c2, _ := Parse(d); !slices.Equal(c2, cmds) {
			t.Errorf("Demote changed the commands:\n%q\n%q", md, d)
		}
		if strings.Count(d, "\n") != strings.Count(md, "\n") || Demote(d, 4) != d {
			t.Errorf("Demote is not line for line, or not idempotent:\n%q\n%q", md, d)
		}
	})
}

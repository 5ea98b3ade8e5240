package killercoda

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseCommands(t *testing.T) {
	md := "Intro `ls -l`{{exec}} and `whoami`{{exec interrupt}}\n" +
		"`copy me`{{copy}} `nothing`{{}} `open`{{open}}\n" +
		"```plain\nuname -r\npwd\n```{{exec}}\n" +
		"```\nsleep 1\n```{{execute interrupt T2}}\n" +
		"```yaml{2,5}\nkind: Pod\n```\n" +
		"`hostname`{{execute HOST2}}\n"
	cmds, code := Parse(md)
	want := []Command{
		{Code: "ls -l", Line: 1, Host: 1},
		{Code: "whoami", Line: 1, Host: 1, Interrupt: true},
		{Code: "uname -r\npwd", Line: 4, Host: 1},
		{Code: "sleep 1", Line: 8, Host: 1, Interrupt: true},
		{Code: "hostname", Line: 13, Host: 2},
	}
	if !reflect.DeepEqual(cmds, want) {
		t.Errorf("commands:\n%+v\nwant\n%+v", cmds, want)
	}
	var lines []string
	for _, c := range code {
		lines = append(lines, fmt.Sprintf("%d:%s", c.Line, c.Text))
	}
	if got := strings.Join(lines, " | "); got != "1:ls -l | 1:whoami | 4:uname -r | 5:pwd | 8:sleep 1 | 11:kind: Pod | 13:hostname" {
		t.Errorf("code lines: %s", got)
	}
	// An unclosed fence ends the text's code; it is no command.
	if cmds, _ := Parse("```\nrm -rf /\n"); len(cmds) != 0 {
		t.Errorf("unclosed fence: %+v", cmds)
	}
}

func TestRewriteLinks(t *testing.T) {
	md := "![a](./img/a.png) [doc](b.md#part) [web](https://x.io/a.png) [port]({{TRAFFIC_HOST1_80}})\n" +
		"<img src=\"../up.png\" width=\"10\"> [top](#top) ![abs](/etc/x.png)\n" +
		"```\n![in code](c.png)\n```\n"
	var seen []string
	got := RewriteLinks(md, func(target string, line int) string {
		seen = append(seen, fmt.Sprintf("%d:%s", line, target))
		return "new/" + target
	})
	want := "![a](new/./img/a.png) [doc](new/b.md#part) [web](https://x.io/a.png) [port]({{TRAFFIC_HOST1_80}})\n" +
		"<img src=\"new/../up.png\" width=\"10\"> [top](#top) ![abs](/etc/x.png)\n" +
		"```\n![in code](c.png)\n```\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if s := strings.Join(seen, " "); s != "1:./img/a.png 1:b.md 2:../up.png" {
		t.Errorf("rewritten: %s", s)
	}
}

// TestConvertLinks: a linked image beside the text, one in the
// repository's shared folder and a missing one.
func TestConvertLinks(t *testing.T) {
	src := fstest.MapFS{
		"repo/s/index.json":    {Data: []byte(`{"details": {"steps": [{"title": "One", "text": "step1/text.md"}]}, "backend": {"imageid": "ubuntu"}}`)},
		"repo/s/step1/text.md": {Data: []byte("![a](./a.png)\n![logo](../../assets/logo.png)\n![gone](gone.png)\n")},
		"repo/s/step1/a.png":   {Data: []byte("A")},
		"repo/assets/logo.png": {Data: []byte("L")},
	}
	l, err := Convert(src, "repo/s", Options{})
	if err != nil {
		t.Fatal(err)
	}
	text := string(l.Files["steps/01-one.en.md"])
	if text != "![a](step1/a.png)\n![logo](shared/repo/assets/logo.png)\n![gone](gone.png)\n" {
		t.Errorf("text:\n%s", text)
	}
	if string(l.Files["steps/step1/a.png"]) != "A" || string(l.Files["steps/shared/repo/assets/logo.png"]) != "L" {
		t.Errorf("linked files: %v", keys(l.Files))
	}
	if len(l.Warnings) != 1 || l.Warnings[0].String() != "repo/s/step1/text.md:3: link gone.png: no such file; left as it is" {
		t.Errorf("warnings: %v", l.Warnings)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestScanLine(t *testing.T) {
	for line, want := range map[string]string{
		"apt-get install -y tree":                         "needs the internet: apt-get install",
		"sudo apt update && sudo apt install -y jq":       "needs the internet: apt-get update",
		"yes | sudo apt-get -q install cowsay":            "needs the internet: apt-get install",
		"pip3 install flask":                              "needs the internet: pip install",
		"docker run -d -p 80:80 nginx:alpine":             "needs the internet: docker run",
		"docker-compose up -d":                            "needs the internet: docker compose up",
		"docker compose -f x.yml up":                      "needs the internet: docker compose up",
		"git clone https://github.com/grafana/x.git":      "needs the internet: git clone",
		"curl -fsSL https://get.example.com/install | sh": "needs the internet: curl get.example.com",
		"wget -q http://example.org/a.tgz":                "needs the internet: wget example.org",
		"curl -s localhost:8080/health":                   "",
		"curl http://172.30.1.2:30080":                    "",
		"curl http://node01:8080/":                        "",
		"systemctl restart nginx":                         "needs systemd: systemctl",
		"service ssh restart":                             "needs systemd: service restart",
		"kubectl get pods":                                "needs Kubernetes: kubectl",
		"# apt-get install tree":                          "",
		"echo apt is a package manager":                   "",
		"ls -l":                                           "",
	} {
		if got := scanLine(line); got != want {
			t.Errorf("%q: %q, want %q", line, got, want)
		}
	}
}

func TestMatchAssets(t *testing.T) {
	all := []string{"conf.yaml", "run.sh", "app1/readme.md", "app1/config/app.json", "app1/config/c.yaml", "app2/cnf/cnf.json"}
	for pattern, want := range map[string]string{
		"conf.yaml":      "conf.yaml>conf.yaml",
		"app1/readme.md": "app1/readme.md>readme.md",
		"*":              "conf.yaml>conf.yaml run.sh>run.sh",
		"**":             "conf.yaml>conf.yaml run.sh>run.sh app1/readme.md>app1/readme.md app1/config/app.json>app1/config/app.json app1/config/c.yaml>app1/config/c.yaml app2/cnf/cnf.json>app2/cnf/cnf.json",
		"**/*.json":      "app1/config/app.json>app1/config/app.json app2/cnf/cnf.json>app2/cnf/cnf.json",
		"app1/**/*.json": "app1/config/app.json>config/app.json",
		"app1/*/*.yaml":  "app1/config/c.yaml>config/c.yaml",
		"app*/*.*":       "app1/readme.md>app1/readme.md",
		"missing.txt":    "",
	} {
		var got []string
		for _, m := range matchAssets(all, pattern) {
			got = append(got, m.path+">"+m.rel)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%q: %s, want %s", pattern, strings.Join(got, " "), want)
		}
	}
	for target, want := range map[string]string{"~/": "/root", "~/bin": "/root/bin", "/usr/local/bin/": "/usr/local/bin", "data": "/root/data"} {
		if got := assetTarget(target); got != want {
			t.Errorf("target %q: %q, want %q", target, got, want)
		}
	}
}

func TestDemote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"# A\n\ntext\n\n## B\n", "#### A\n\ntext\n\n##### B\n"},
		{"### Done\n", "#### Done\n"},
		{"#### Already\n##### low\n", "#### Already\n##### low\n"},
		{"# A\n###### six\n", "#### A\n###### six\n"}, // capped at 6
		{"# A\n```\n# a comment\n```{{exec}}\n## B\n", "#### A\n```\n# a comment\n```{{exec}}\n##### B\n"},
		{"#hashtag and #!/bin/sh\n    # indented code\n", "#hashtag and #!/bin/sh\n    # indented code\n"},
		{"", ""},
	} {
		if got := Demote(tc.in, 4); got != tc.want {
			t.Errorf("Demote(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDropTitle(t *testing.T) {
	for _, tc := range []struct{ in, title, want string }{
		{"# Step 1: Logs\n\nLook.\n", "Step 1: Logs", "Look.\n"},
		{"\n## **make a folder**\nMake it.\n", "Make a folder", "Make it.\n"},
		{"# Welcome\n\nHi.\n", "Step 1", "# Welcome\n\nHi.\n"},
		{"Text first.\n# Step 1\n", "Step 1", "Text first.\n# Step 1\n"},
	} {
		if got := dropTitle(tc.in, tc.title); got != tc.want {
			t.Errorf("dropTitle(%q, %q) = %q, want %q", tc.in, tc.title, got, tc.want)
		}
	}
}

package killercoda

import (
	"encoding/base64"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// hostScript writes /etc/killercoda/host as Killercoda does: the address of
// a port of host 1, with PORT for the port (sed 's/PORT/80/g' /etc/killercoda/host).
const hostScript = `#!/bin/bash
# Killercoda's /etc/killercoda/host: the address of a port of host 1, with
# PORT in place of the port number, for scripts that read it.
mkdir -p /etc/killercoda
echo 'http://172.30.1.2:PORT' >/etc/killercoda/host
`

// checkScript wraps a verify script: run with bash (many have no #! line
// and no run bit), exit 0 passes; the lines it prints that start with FAIL:
// are the trainee's message, else a generic one.
func checkScript(title, from, body string) string {
	delim := heredocDelim(body, "VERIFY")
	return fmt.Sprintf(`#!/bin/bash
# The check of the step %q: the scenario's verify script (%s), run
# with bash; exit 0 passes. Its lines that start with FAIL: are shown to the
# trainee, otherwise a generic "not yet".
verify=$(cat <<'%s'
%s
%s
)
out=$(bash -c "$verify" verify 2>&1 </dev/null)
rc=$?
[ "$rc" -eq 0 ] && exit 0
msg=$(printf '%%s\n' "$out" | grep '^FAIL:')
printf '%%s\n' "${msg:-FAIL: not yet: the check of this step does not pass}"
exit "$rc"
`, title, from, delim, strings.TrimRight(body, "\n"), delim)
}

// heredocDelim returns a here-document delimiter that no line of body is.
func heredocDelim(body, base string) string {
	lines := strings.Split(body, "\n")
	for n := 0; ; n++ {
		d := base + "_END"
		if n > 0 {
			d = fmt.Sprintf("%s_END_%d", base, n)
		}
		clash := false
		for _, l := range lines {
			if strings.TrimSpace(l) == d {
				clash = true
				break
			}
		}
		if !clash {
			return d
		}
	}
}

// solveScript is a step's solution: the commands its text offers to run,
// in order. A command the next one interrupts (a server, a sleep) would
// never end here, so it is left out; commands for another host run there
// over ssh.
func (c *converter) solveScript(title, text string, cmds []Command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n# The solution of the step %q, run by the lab tests: the\n", title)
	b.WriteString("# commands its text offers to run, in order. Edit it where the text\n# leaves the work to the trainee.\n")
	if len(cmds) == 0 {
		b.WriteString("# The text offers no command: write the step's work here.\n")
		return b.String()
	}
	// A command that fails means the work was not done: stop there.
	b.WriteString("set -e\ncd /root\n")
	for i, cmd := range cmds {
		if i+1 < len(cmds) && cmds[i+1].Interrupt {
			fmt.Fprintf(&b, "# interrupted by the next command, so not run here:\n%s\n", commentOut(cmd.Code))
			continue
		}
		if cmd.Host > 1 {
			if cmd.Host > len(c.nodes) {
				fmt.Fprintf(&b, "# for host %d, which this lab does not have:\n%s\n", cmd.Host, commentOut(cmd.Code))
				continue
			}
			d := heredocDelim(cmd.Code, "HOST")
			fmt.Fprintf(&b, "ssh %s bash -s <<'%s'\n%s\n%s\n", c.nodes[cmd.Host-1], d, cmd.Code, d)
			continue
		}
		b.WriteString(cmd.Code + "\n")
	}
	return b.String()
}

func commentOut(code string) string {
	return "# " + strings.ReplaceAll(code, "\n", "\n# ")
}

// maxAssetScript keeps each generated asset script under the lab loader's
// 100 KiB limit for a script.
const maxAssetScript = 90 << 10

// copied is one asset file going to a node.
type copied struct {
	src, dst, chmod string // src in the assets folder; dst absolute in the node
}

// assets copies the files details.assets names into files/ and writes
// setup scripts that put them in place (a lab's setup runs scripts in
// its nodes; the scripts carry the files). It returns their setup lines.
func (c *converter) assets(a Assets) ([]string, error) {
	hosts := make([]string, 0, len(a))
	for h := range a {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	var lines []string
	index := path.Join(c.dir, "index.json")
	all := c.assetFiles()
	for _, host := range hosts {
		n := hostNumber(host)
		if n < 1 || n > len(c.nodes) {
			c.warn(index, 0, "details.assets.%s: this lab has no such host; its assets are not imported", host)
			continue
		}
		var files []copied
		for i, as := range a[host] {
			matches := matchAssets(all, as.File)
			if len(matches) == 0 {
				c.warn(index, 0, "details.assets.%s[%d]: no file assets/%s; left out", host, i, as.File)
				continue
			}
			target := assetTarget(as.Target)
			for _, m := range matches {
				files = append(files, copied{src: m.path, dst: path.Join(target, m.rel), chmod: as.Chmod})
			}
		}
		for part, body := range c.assetScripts(host, files) {
			name := fmt.Sprintf("scripts/assets-%s.sh", host)
			if part > 0 {
				name = fmt.Sprintf("scripts/assets-%s-%d.sh", host, part+1)
			}
			c.putScript(name, body)
			lines = append(lines, c.setupLine(name, c.nodes[n-1]))
		}
		c.lab.Assets += len(files)
	}
	return lines, nil
}

var hostName = regexp.MustCompile(`^host0*([1-9])$`)

func hostNumber(h string) int {
	if m := hostName.FindStringSubmatch(h); m != nil {
		return int(m[1][0] - '0')
	}
	return 0
}

// assetTarget resolves a target folder: ~ is root's home, and so is a
// relative one.
func assetTarget(t string) string {
	t = strings.TrimSpace(t)
	switch {
	case t == "~" || strings.HasPrefix(t, "~/"):
		t = "/root" + strings.TrimPrefix(t, "~")
	case !strings.HasPrefix(t, "/"):
		t = "/root/" + t
	}
	return path.Clean(t)
}

type assetFile struct{ path, rel string }

// assetFiles lists every file under the scenario's assets folder, relative to it.
func (c *converter) assetFiles() []string {
	root := path.Join(c.dir, "assets")
	var out []string
	fs.WalkDir(c.src, root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, strings.TrimPrefix(p, root+"/"))
		}
		return nil
	})
	return out
}

// matchAssets returns the files a pattern names: a path, or a glob where *
// matches within a folder and ** across folders. A plain path lands in the
// target by its name; a glob's matches keep their path below the pattern's
// first folder with a wildcard.
func matchAssets(all []string, pattern string) []assetFile {
	pattern = strings.TrimPrefix(path.Clean(strings.TrimSpace(pattern)), "./")
	if !strings.ContainsAny(pattern, "*?[") {
		for _, f := range all {
			if f == pattern {
				return []assetFile{{path: f, rel: path.Base(f)}}
			}
		}
		return nil
	}
	var prefix []string
	for _, seg := range strings.Split(pattern, "/") {
		if strings.ContainsAny(seg, "*?[") {
			break
		}
		prefix = append(prefix, seg)
	}
	base := strings.Join(prefix, "/")
	re, err := regexp.Compile("^" + globRegexp(pattern) + "$")
	if err != nil {
		return nil
	}
	var out []assetFile
	for _, f := range all {
		if re.MatchString(f) {
			rel := f
			if base != "" {
				rel = strings.TrimPrefix(f, base+"/")
			}
			out = append(out, assetFile{path: f, rel: rel})
		}
	}
	return out
}

func globRegexp(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch {
		case strings.HasPrefix(p[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i++
		case p[i] == '*':
			b.WriteString("[^/]*")
		case p[i] == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	return b.String()
}

// assetScripts copies the files into files/ and returns the scripts that
// write them into the node, each under maxAssetScript; a large file is
// carried in pieces over several scripts.
func (c *converter) assetScripts(host string, files []copied) []string {
	head := fmt.Sprintf(`#!/bin/bash
# The scenario's assets for %s, put in place at setup as Killercoda does.
# Made by labd import killercoda from files/ (a lab's setup runs scripts
# in its nodes, so the script carries the files); import again after
# changing them.
set -e
put() { # put FILE [CHMOD] < contents
	mkdir -p "$(dirname "$1")"
	cat >"$1"
	[ -z "$2" ] || chmod "$2" "$1"
}
`, host)
	var parts []string
	done := map[string]string{} // src -> where it was put first
	for _, f := range files {
		mode := ""
		if f.chmod != "" {
			mode = " " + shellQuote(f.chmod)
		}
		if prev, ok := done[f.src]; ok {
			parts = append(parts, fmt.Sprintf("put %s%s <%s\n", shellQuote(f.dst), mode, shellQuote(prev)))
			continue
		}
		done[f.src] = f.dst
		data, _ := fs.ReadFile(c.src, path.Join(c.dir, "assets", f.src))
		c.lab.Files["files/"+f.src] = data
		if text := string(data); len(text) < maxAssetScript/2 && utf8.ValidString(text) && !strings.ContainsRune(text, 0) && strings.HasSuffix(text, "\n") {
			d := heredocDelim(text, "ASSET")
			parts = append(parts, fmt.Sprintf("put %s%s <<'%s'\n%s%s\n", shellQuote(f.dst), mode, d, text, d))
			continue
		}
		// Base64 in pieces: the first one makes the file, the others add to it.
		const piece = 60 << 10
		for off := 0; off == 0 || off < len(data); off += piece {
			chunk := data[off:min(off+piece, len(data))]
			var b strings.Builder
			if off == 0 {
				fmt.Fprintf(&b, "base64 -d <<'ASSET_END' | put %s\n", shellQuote(f.dst))
			} else {
				fmt.Fprintf(&b, "base64 -d <<'ASSET_END' >>%s\n", shellQuote(f.dst))
			}
			enc := base64.StdEncoding.EncodeToString(chunk)
			for len(enc) > 76 {
				b.WriteString(enc[:76] + "\n")
				enc = enc[76:]
			}
			fmt.Fprintf(&b, "%s\nASSET_END\n", enc)
			if off+piece >= len(data) && f.chmod != "" {
				fmt.Fprintf(&b, "chmod %s %s\n", shellQuote(f.chmod), shellQuote(f.dst))
			}
			parts = append(parts, b.String())
		}
	}
	var scripts []string
	var b strings.Builder
	for _, p := range parts {
		if b.Len() > 0 && b.Len()+len(p) > maxAssetScript {
			scripts = append(scripts, b.String())
			b.Reset()
		}
		if b.Len() == 0 {
			b.WriteString(head)
		}
		b.WriteString(p)
	}
	if b.Len() > 0 {
		scripts = append(scripts, b.String())
	}
	return scripts
}

func shellQuote(s string) string {
	if regexp.MustCompile(`^[A-Za-z0-9_./+=:@%-]+$`).MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

package killercoda

import (
	"regexp"
	"strconv"
	"strings"
)

// Command is a piece of code a step's text offers to run: an inline
// `cmd`{{exec}} or a fenced block closed with ```{{exec}}.
type Command struct {
	Code      string
	Line      int  // of the text file, 1-based
	Host      int  // 1 unless {{execute HOST2}}
	Interrupt bool // Ctrl-C first
}

// CodeLine is one line of code in a text (in an inline command or in a
// fenced block), for the offline scan.
type CodeLine struct {
	Text string
	Line int
}

var (
	inlineExec = regexp.MustCompile("`([^`]+)`\\{\\{(exec|execute)([^}]*)\\}\\}")
	fenceOpen  = regexp.MustCompile("^\\s*```")
	fenceClose = regexp.MustCompile("^\\s*```\\s*(\\{\\{([^}]*)\\}\\})?\\s*$")
	hostTag    = regexp.MustCompile(`\bHOST(\d+)\b`)
)

// parseTag reads the inside of an action tag: "exec", "exec interrupt",
// "execute T2", "execute HOST2". ok is false for copy, open and the empty tag.
func parseTag(tag string) (host int, interrupt, ok bool) {
	f := strings.Fields(tag)
	if len(f) == 0 || (f[0] != "exec" && f[0] != "execute") {
		return 0, false, false
	}
	host = 1
	for _, w := range f[1:] {
		if w == "interrupt" {
			interrupt = true
		}
		if m := hostTag.FindStringSubmatch(w); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n >= 1 && n <= 9 {
				host = n
			}
		}
	}
	return host, interrupt, true
}

// Parse finds the commands and the code lines of a step's Markdown.
func Parse(md string) (cmds []Command, code []CodeLine) {
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if fenceOpen.MatchString(line) {
			start := i
			var body []string
			closed := false
			for i++; i < len(lines); i++ {
				if m := fenceClose.FindStringSubmatch(lines[i]); m != nil {
					closed = true
					if host, intr, ok := parseTag(m[2]); ok && len(body) > 0 {
						cmds = append(cmds, Command{Code: strings.Join(body, "\n"), Line: start + 2, Host: host, Interrupt: intr})
					}
					break
				}
				body = append(body, lines[i])
				code = append(code, CodeLine{Text: lines[i], Line: i + 1})
			}
			if !closed {
				break
			}
			continue
		}
		for _, m := range inlineExec.FindAllStringSubmatch(line, -1) {
			code = append(code, CodeLine{Text: m[1], Line: i + 1})
			if host, intr, ok := parseTag(m[2] + m[3]); ok {
				cmds = append(cmds, Command{Code: m[1], Line: i + 1, Host: host, Interrupt: intr})
			}
		}
	}
	return cmds, code
}

var (
	mdLink  = regexp.MustCompile(`(!?\[[^\]]*\]\()([^)\s]+)((?:\s+"[^"]*")?\))`)
	htmlSrc = regexp.MustCompile(`(<(?:img|a|source|video)\b[^>]*?\s(?:src|href)=["'])([^"']+)(["'])`)
)

// relativeLink reports whether a link target is a file beside the text:
// not a URL, an anchor, an absolute path or a Killercoda placeholder.
func relativeLink(target string) bool {
	switch {
	case target == "", strings.HasPrefix(target, "#"), strings.HasPrefix(target, "/"),
		strings.Contains(target, "{{"), strings.Contains(target, "://"),
		strings.HasPrefix(target, "mailto:"), strings.HasPrefix(target, "data:"):
		return false
	}
	return true
}

// RewriteLinks replaces every relative link target outside code with what
// rewrite returns for it (with the link's line); rewrite returns the
// target itself to leave a link as it is.
func RewriteLinks(md string, rewrite func(target string, line int) string) string {
	lines := strings.Split(md, "\n")
	inFence := false
	for i, line := range lines {
		if fenceOpen.MatchString(line) {
			if inFence && fenceClose.MatchString(line) || !inFence {
				inFence = !inFence
				continue
			}
		}
		if inFence {
			continue
		}
		repl := func(re *regexp.Regexp) {
			line = re.ReplaceAllStringFunc(line, func(m string) string {
				p := re.FindStringSubmatch(m)
				target := p[2]
				path, frag, hasFrag := strings.Cut(target, "#")
				if !relativeLink(target) || path == "" {
					return m
				}
				nt := rewrite(path, i+1)
				if hasFrag {
					nt += "#" + frag
				}
				return p[1] + nt + p[3]
			})
		}
		repl(mdLink)
		repl(htmlSrc)
		lines[i] = line
	}
	return strings.Join(lines, "\n")
}

var atxHeading = regexp.MustCompile(`^( {0,3})(#{1,6})([ \t]+|$)`)

// headings calls fn with each ATX heading line outside fenced code (a
// shell comment in a block is no heading); fn returns the line to keep.
func headings(md string, fn func(i int, level int, line string) string) string {
	lines := strings.Split(md, "\n")
	inFence := false
	for i, line := range lines {
		if fenceOpen.MatchString(line) {
			if inFence && fenceClose.MatchString(line) || !inFence {
				inFence = !inFence
				continue
			}
		}
		if m := atxHeading.FindStringSubmatch(line); m != nil && !inFence {
			lines[i] = fn(i, len(m[2]), line)
		}
	}
	return strings.Join(lines, "\n")
}

// Demote shifts a text's headings so that its highest is of level top:
// on the lab page a step's title is a heading of level top-1, and a
// scenario's texts open with # headings of their own.
func Demote(md string, top int) string {
	high := 7
	headings(md, func(_ int, level int, line string) string {
		high = min(high, level)
		return line
	})
	if high >= top {
		return md
	}
	return headings(md, func(_ int, level int, line string) string {
		m := atxHeading.FindStringSubmatch(line)
		return m[1] + strings.Repeat("#", min(6, level+top-high)) + line[len(m[1])+level:]
	})
}

// dropTitle removes the heading a text opens with when it says the step's
// title: the lab page shows the title above the text already.
func dropTitle(md, title string) string {
	rest := strings.TrimLeft(md, "\r\n\t ")
	line, after, _ := strings.Cut(rest, "\n")
	if heading(line) == "" || !strings.EqualFold(heading(line), strings.TrimSpace(title)) {
		return md
	}
	return strings.TrimLeft(after, "\r\n")
}

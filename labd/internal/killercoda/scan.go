package killercoda

import (
	"fmt"
	"regexp"
	"strings"
)

// A lab node has no route out of its session: whatever a scenario fetches
// at run time must be in the node's image instead. The scan finds the lines
// of scripts and step code that would fetch something, so the author knows
// what to put there.
var offline = []struct {
	re   *regexp.Regexp
	what string // "needs the internet: " + what, or a whole message with ':'
}{
	{regexp.MustCompile(`\bapt(-get)?\s+(-\S+\s+)*(install|update|upgrade|dist-upgrade)\b`), "apt-get $3"},
	{regexp.MustCompile(`\b(yum|dnf|apk|zypper)\s+(-\S+\s+)*(install|add|update)\b`), "$1 $3"},
	{regexp.MustCompile(`\bsnap\s+install\b`), "snap install"},
	{regexp.MustCompile(`\bpip[0-9.]*\s+install\b`), "pip install"},
	{regexp.MustCompile(`\b(npm|yarn|pnpm)\s+(install|i|add|ci)\b`), "$1 $2"},
	{regexp.MustCompile(`\bgo\s+(get|install)\b`), "go $1"},
	{regexp.MustCompile(`\b(gem|cargo)\s+install\b`), "$1 install"},
	{regexp.MustCompile(`\bdocker(-compose|\s+compose)\b.*?\b(up|pull|build|run|create)\b`), "docker compose $2"},
	{regexp.MustCompile(`\bdocker\s+(-\S+\s+)*(pull|run|build|create|push)\b`), "docker $2"},
	{regexp.MustCompile(`\b(podman|nerdctl|crictl|ctr)\s+(-\S+\s+)*(pull|run)\b`), "$1 $3"},
	{regexp.MustCompile(`\bhelm\s+(repo\s+add|install|upgrade|pull)\b`), "helm $1"},
	{regexp.MustCompile(`\bgit\s+(clone|pull|fetch)\s+\S*(https?://|git@)`), "git $1"},
	{regexp.MustCompile(`\bkubectl\b`), "needs Kubernetes: kubectl"},
	{regexp.MustCompile(`\b(systemctl|journalctl)\b`), "needs systemd: $1"},
	{regexp.MustCompile(`\bservice\s+\S+\s+(start|restart|stop|status)\b`), "needs systemd: service $1"},
}

// fetchURL finds curl and wget of URLs; addresses inside the lab are fine.
var (
	fetchURL = regexp.MustCompile(`\b(curl|wget)\b[^|;&]*?\b(https?|ftp)://([^/\s:'"]+)`)
	localURL = regexp.MustCompile(`^(localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|172\.30\.\d+\.\d+|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|\[::1\]|host\d+|node\d+|controlplane|ubuntu|[a-z0-9-]+)$`)
)

// Warning is one line of the import's report, file:line: message.
type Warning struct {
	File string
	Line int
	Msg  string
}

func (w Warning) String() string {
	if w.Line == 0 {
		return fmt.Sprintf("%s: %s", w.File, w.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Msg)
}

// scanLine returns what a line of shell needs that a lab lacks, or "".
func scanLine(line string) string {
	code, _, _ := strings.Cut(strings.TrimSpace(line), " #")
	if strings.HasPrefix(code, "#") || code == "" {
		return ""
	}
	for _, o := range offline {
		if m := o.re.FindStringSubmatchIndex(code); m != nil {
			what := string(o.re.ExpandString(nil, o.what, code, m))
			what = strings.Join(strings.Fields(what), " ")
			if strings.Contains(what, ": ") {
				return what
			}
			return "needs the internet: " + what
		}
	}
	if m := fetchURL.FindStringSubmatch(code); m != nil && !localURL.MatchString(m[3]) {
		return "needs the internet: " + m[1] + " " + m[3]
	}
	return ""
}

// scanScript warns for each line of a script that needs what a lab lacks.
func scanScript(file, body string) []Warning {
	var ws []Warning
	for i, line := range strings.Split(body, "\n") {
		if msg := scanLine(line); msg != "" {
			ws = append(ws, Warning{File: file, Line: i + 1, Msg: msg})
		}
	}
	return ws
}

// scanCode warns for each line of a text's code that needs what a lab lacks.
func scanCode(file string, code []CodeLine) []Warning {
	var ws []Warning
	for _, c := range code {
		if msg := scanLine(c.Text); msg != "" {
			ws = append(ws, Warning{File: file, Line: c.Line, Msg: msg})
		}
	}
	return ws
}

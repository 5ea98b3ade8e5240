package killercoda

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Options steer a conversion.
type Options struct {
	ID   string // the lab's id; default: the scenario folder's name
	Lang string // the language of the texts: en (default) or zh
	// Source names the scenario in lab.yaml's first line (default: dir,
	// which is "." when the folder read from is the scenario itself).
	Source string
}

// Lab is a converted scenario: the lab folder's files and what the import
// found on the way.
type Lab struct {
	ID       string
	Files    map[string][]byte // path in the lab folder -> contents
	Warnings []Warning
	Steps    int
	Checks   int    // steps with a verify script
	Assets   int    // files copied into nodes at setup
	Verified []bool // per step: it has the scenario's verify (else its check always passes)
}

// RefusedError is a scenario whose backend a lab cannot offer.
type RefusedError struct {
	Dir     string
	Backend string
	Why     string // more than the backend's name, or ""
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s: backend %q%s is not supported (supported: ubuntu, ubuntu-4GB, Katacoda's ubuntu:* and bash as one Linux node; kubernetes-kubeadm-2nodes without kubectl as two Linux nodes)", e.Dir, e.Backend, e.Why)
}

// Fixed addresses Killercoda gives its hosts; scenarios hard-code them.
var hostAddrs = []string{"172.30.1.2/16", "172.30.2.2/16"}

// nodesFor maps a backend to the lab's nodes, by host number.
func nodesFor(imageID string, usesKubectl bool) (names []string, memory string, ok bool) {
	switch {
	case imageID == "ubuntu", imageID == "bash", strings.HasPrefix(imageID, "ubuntu:"):
		return []string{"ubuntu"}, "1Gi", true
	case imageID == "ubuntu-4GB":
		return []string{"ubuntu"}, "4Gi", true
	case imageID == "kubernetes-kubeadm-2nodes" && !usesKubectl:
		return []string{"controlplane", "node01"}, "1Gi", true
	}
	return nil, "", false
}

var slugBad = regexp.MustCompile(`[^a-z0-9]+`)

// Slug makes an id of s: lowercase letters, digits and dashes, at most max.
func Slug(s string, max int) string {
	s = strings.Trim(slugBad.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > max {
		s = strings.TrimRight(s[:max], "-")
	}
	return s
}

var labID = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// converter holds one conversion's state.
type converter struct {
	src    fs.FS  // the root the scenario's files and links are read from
	dir    string // the scenario's folder in src
	opt    Options
	lab    *Lab
	nodes  []string
	shared map[string]string // steps/ file -> source path, for links
	// introCmds are the commands the intro's text runs.
	introCmds []Command
}

// Convert reads the scenario in dir of src (links may reach elsewhere in
// src, such as a repository's shared assets folder) and returns the lab.
// A scenario whose backend is not supported is a *RefusedError.
func Convert(src fs.FS, dir string, opt Options) (*Lab, error) {
	dir = path.Clean(dir)
	data, err := fs.ReadFile(src, path.Join(dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("%s: no index.json: %w", dir, err)
	}
	sc, err := ParseScenario(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path.Join(dir, "index.json"), err)
	}
	if opt.Lang == "" {
		opt.Lang = "en"
	}
	if opt.Lang != "en" && opt.Lang != "zh" {
		return nil, fmt.Errorf("language %q: want en or zh", opt.Lang)
	}
	id, hint := opt.ID, ""
	if id == "" {
		hint = "; give one with --id"
		base := path.Base(dir)
		if base == "." || base == "/" {
			base = sc.Title
		}
		id = Slug(base, 63)
	}
	if !labID.MatchString(id) {
		return nil, fmt.Errorf("lab id %q: want lowercase letters, digits and dashes (at most 63)%s", id, hint)
	}
	c := &converter{src: src, dir: dir, opt: opt, lab: &Lab{ID: id, Files: map[string][]byte{}}, shared: map[string]string{}}
	kubectl := c.usesKubectl(sc)
	names, memory, ok := nodesFor(sc.Backend.ImageID, kubectl)
	if !ok {
		why := ""
		if kubectl && sc.Backend.ImageID == "kubernetes-kubeadm-2nodes" {
			why = " with kubectl in its scripts or steps"
		}
		return nil, &RefusedError{Dir: dir, Backend: sc.Backend.ImageID, Why: why}
	}
	c.nodes = names
	if err := c.convert(sc, memory); err != nil {
		return nil, err
	}
	return c.lab, nil
}

// usesKubectl reports whether any script or step text of sc runs kubectl:
// a two-node Kubernetes scenario is imported only as two plain hosts.
func (c *converter) usesKubectl(sc *Scenario) bool {
	pages := append([]Page{sc.Details.Intro, sc.Details.Finish}, sc.Details.Steps...)
	kubectl := regexp.MustCompile(`\bkubectl\b`)
	for _, p := range pages {
		for _, f := range []string{p.Text, p.Verify, p.background(), p.foreground()} {
			if f == "" {
				continue
			}
			if data, err := fs.ReadFile(c.src, path.Join(c.dir, f)); err == nil && kubectl.Match(data) {
				return true
			}
		}
	}
	return false
}

// read returns a file of the scenario named by field of index.json.
func (c *converter) read(field, name string) (string, error) {
	p := path.Join(c.dir, name)
	if !fs.ValidPath(p) || strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("%s: %s: %q leaves the scenario's folder", path.Join(c.dir, "index.json"), field, name)
	}
	data, err := fs.ReadFile(c.src, p)
	if err != nil {
		return "", fmt.Errorf("%s: %s: file %s not found", path.Join(c.dir, "index.json"), field, name)
	}
	return c.placeholders(p, string(data)), nil
}

// Katacoda's placeholders for the hosts' addresses become the fixed
// addresses; those for the web addresses of ports have no meaning in a lab.
var (
	hostIP      = strings.NewReplacer("[[HOST_IP]]", "172.30.1.2", "[[HOST1_IP]]", "172.30.1.2", "[[HOST2_IP]]", "172.30.2.2")
	webVariable = regexp.MustCompile(`\[\[(HOST_SUBDOMAIN|KATACODA_HOST|KATACODA_DOMAIN|HOST\d?_SUBDOMAIN)\]\]`)
)

func (c *converter) placeholders(file, text string) string {
	text = hostIP.Replace(text)
	for i, line := range strings.Split(text, "\n") {
		if m := webVariable.FindString(line); m != "" {
			c.warn(file, i+1, "%s: a Katacoda web address of a port; labs have none yet", m)
		}
	}
	return text
}

func (c *converter) warn(file string, line int, format string, args ...any) {
	c.lab.Warnings = append(c.lab.Warnings, Warning{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// step is one step of the lab being written.
type step struct {
	id, title, text     string
	check, solve        string // script paths
	onEnter, foreground string
	verified            bool
}

func (c *converter) convert(sc *Scenario, memory string) error {
	d := sc.Details
	pages := d.Steps
	if len(pages) == 0 {
		// A scenario of an intro only: its intro is the lab's one step.
		p := d.Intro
		p.Background, p.CourseData, p.Foreground, p.Code = "", "", "", ""
		if p.Title == "" {
			p.Title = first(sc.Title, "Introduction")
		}
		pages = []Page{p}
	}
	var intro, finish string
	var err error
	if d.Intro.Text != "" {
		if intro, err = c.text("details.intro.text", d.Intro.Text); err != nil {
			return err
		}
		if len(d.Steps) > 0 {
			c.introCmds, _ = Parse(intro)
		}
	}
	if d.Finish.Text != "" {
		if finish, err = c.text("details.finish.text", d.Finish.Text); err != nil {
			return err
		}
	}
	if d.Finish.background() != "" || d.Finish.foreground() != "" {
		c.warn(path.Join(c.dir, "index.json"), 0, "details.finish: its background and foreground scripts are not imported (a lab has no page after its last step)")
	}
	var steps []step
	ids := map[string]bool{}
	for i, p := range pages {
		s, err := c.step(i, p, ids)
		if err != nil {
			return err
		}
		if len(d.Steps) == 0 {
			s.text = ""
		}
		steps = append(steps, s)
	}
	// On the lab page a step's title is a heading of level 3: the texts'
	// own headings go below it, and one that repeats the title goes.
	for i := range steps {
		steps[i].text = Demote(dropTitle(steps[i].text, steps[i].title), 4)
	}
	intro, finish = Demote(intro, 4), Demote(finish, 4)
	// The intro opens the first step's text, the finish closes the last's.
	if intro != "" {
		steps[0].text = strings.TrimRight(intro, "\n") + "\n\n---\n\n" + steps[0].text
	}
	if finish != "" {
		last := &steps[len(steps)-1]
		last.text = strings.TrimRight(last.text, "\n") + "\n\n---\n\n" + finish
	}
	for i := range steps {
		if strings.TrimSpace(steps[i].text) == "" {
			steps[i].text = steps[i].title + "\n"
		}
		name := fmt.Sprintf("steps/%02d-%s", i+1, steps[i].id)
		c.putText(name, steps[i].text)
		steps[i].text = name
	}

	var setup []string
	c.putScript("scripts/killercoda-host.sh", hostScript)
	setup = append(setup, c.setupLine("scripts/killercoda-host.sh", c.nodes...))
	assets, err := c.assets(d.Assets)
	if err != nil {
		return err
	}
	setup = append(setup, assets...)
	if bg := d.Intro.background(); bg != "" {
		name, err := c.script("details.intro.background", bg, "scripts/intro-background.sh", true)
		if err != nil {
			return err
		}
		setup = append(setup, c.setupLine(name, c.nodes[0]))
	}
	var fg string
	if f := d.Intro.foreground(); f != "" {
		if fg, err = c.script("details.intro.foreground", f, "scripts/intro-foreground.sh", false); err != nil {
			return err
		}
	}
	c.lab.Steps = len(steps)
	for _, s := range steps {
		c.lab.Verified = append(c.lab.Verified, s.verified)
		if s.verified {
			c.lab.Checks++
		}
	}
	c.lab.Files["lab.yaml"] = []byte(c.labYAML(sc, memory, setup, fg, steps))
	slices.SortStableFunc(c.lab.Warnings, func(a, b Warning) int {
		if a.File != b.File {
			return strings.Compare(a.File, b.File)
		}
		return a.Line - b.Line
	})
	c.lab.Warnings = slices.Compact(c.lab.Warnings)
	return nil
}

// step converts one page of details.steps.
func (c *converter) step(i int, p Page, ids map[string]bool) (step, error) {
	field := fmt.Sprintf("details.steps[%d]", i)
	s := step{title: strings.TrimSpace(p.Title)}
	var cmds []Command
	if p.Text != "" {
		t, err := c.text(field+".text", p.Text)
		if err != nil {
			return s, err
		}
		s.text = t
		cmds, _ = Parse(t)
		if i == 0 {
			// The intro's text opens the first step's: so do its commands.
			cmds = append(c.introCmds, cmds...)
		}
		if s.title == "" {
			s.title = heading(t)
		}
	}
	if s.title == "" {
		s.title = fmt.Sprintf("Step %d", i+1)
	}
	s.id = Slug(s.title, 40)
	if s.id == "" || ids[s.id] {
		s.id = fmt.Sprintf("step-%d", i+1)
	}
	for n := 2; ids[s.id]; n++ {
		s.id = fmt.Sprintf("step-%d-%d", i+1, n)
	}
	ids[s.id] = true
	prefix := fmt.Sprintf("scripts/%02d-%s", i+1, s.id)
	if p.Verify != "" {
		body, err := c.read(field+".verify", p.Verify)
		if err != nil {
			return s, err
		}
		c.scan(path.Join(c.dir, p.Verify), body)
		s.check = prefix + "-check.sh"
		c.putScript(s.check, checkScript(s.title, p.Verify, body))
		s.verified = true
	}
	s.solve = prefix + "-solve.sh"
	c.putScript(s.solve, c.solveScript(s.title, p.Text, cmds))
	if bg := p.background(); bg != "" {
		name, err := c.script(field+".background", bg, prefix+"-background.sh", true)
		if err != nil {
			return s, err
		}
		s.onEnter = name
	}
	if f := p.foreground(); f != "" {
		name, err := c.script(field+".foreground", f, prefix+"-foreground.sh", false)
		if err != nil {
			return s, err
		}
		s.foreground = name
	}
	return s, nil
}

var headingLine = regexp.MustCompile(`^#{1,3}\s+(.+?)\s*#*\s*$`)

// heading returns the Markdown heading a text opens with, for a step
// without a title.
func heading(md string) string {
	line := strings.TrimSpace(strings.TrimLeft(md, "\r\n\t "))
	line, _, _ = strings.Cut(line, "\n")
	if m := headingLine.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
		t := strings.Trim(strings.TrimSpace(m[1]), "*_`")
		if len(t) <= 80 {
			return t
		}
	}
	return ""
}

// text reads a page's Markdown, scans its code and copies the files it
// links to into steps/, pointing the links at the copies.
func (c *converter) text(field, name string) (string, error) {
	md, err := c.read(field, name)
	if err != nil {
		return "", err
	}
	file := path.Join(c.dir, name)
	_, code := Parse(md)
	c.lab.Warnings = append(c.lab.Warnings, scanCode(file, code)...)
	base := path.Dir(file)
	md = RewriteLinks(md, func(target string, line int) string {
		src := path.Clean(path.Join(base, target))
		if !fs.ValidPath(src) {
			c.warn(file, line, "link %s leaves the folder imported from; left as it is", target)
			return target
		}
		info, err := fs.Stat(c.src, src)
		if err != nil || !info.Mode().IsRegular() {
			c.warn(file, line, "link %s: no such file; left as it is", target)
			return target
		}
		if info.Size() > maxLinked {
			c.warn(file, line, "link %s: larger than %d MiB; left as it is", target, maxLinked>>20)
			return target
		}
		rel, inside := strings.CutPrefix(src, c.dir+"/")
		if c.dir == "." {
			rel, inside = src, true
		}
		if !inside {
			rel = "shared/" + src
		}
		dst := "steps/" + rel
		if prev, ok := c.shared[dst]; ok && prev != src {
			c.warn(file, line, "link %s: %s is taken by %s; left as it is", target, dst, prev)
			return target
		}
		data, err := fs.ReadFile(c.src, src)
		if err != nil {
			c.warn(file, line, "link %s: %v; left as it is", target, err)
			return target
		}
		c.shared[dst] = src
		c.lab.Files[dst] = data
		return rel
	})
	return md, nil
}

// maxLinked bounds a file a step text links to (an image).
const maxLinked = 10 << 20

// putText writes a step text in both languages; the other language's is a
// copy, marked untranslated in lab.yaml.
func (c *converter) putText(name, md string) {
	if !strings.HasSuffix(md, "\n") {
		md += "\n"
	}
	c.lab.Files[name+".en.md"] = []byte(md)
	c.lab.Files[name+".zh.md"] = []byte(md)
}

func (c *converter) putScript(name, body string) { c.lab.Files[name] = []byte(body) }

// script copies a background or foreground script. Killercoda runs
// background scripts with bash, and many have no #! line: one is added.
func (c *converter) script(field, name, dst string, background bool) (string, error) {
	body, err := c.read(field, name)
	if err != nil {
		return "", err
	}
	c.scan(path.Join(c.dir, name), body)
	if background {
		shebang, rest := "#!/bin/bash", body
		if strings.HasPrefix(body, "#!") {
			shebang, rest, _ = strings.Cut(body, "\n")
		}
		if strings.HasSuffix(strings.Fields(shebang + " sh")[0], "sh") || strings.Contains(shebang, "bash") {
			log := "/var/log/killercoda/" + strings.TrimSuffix(path.Base(dst), ".sh") + ".log"
			body = shebang + "\n# Killercoda keeps a background script's output in /var/log/killercoda;\n" +
				"# so a process it leaves running holds no pipe of labd's open.\n" +
				"mkdir -p /var/log/killercoda\nexec >>" + log + " 2>&1\n" + rest
		}
	}
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	c.putScript(dst, body)
	return dst, nil
}

func (c *converter) scan(file, body string) {
	c.lab.Warnings = append(c.lab.Warnings, scanScript(file, body)...)
}

package lab

import (
	"fmt"
	"io/fs"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/xsky-academy/academy/labd/internal/strictyaml"
)

// FieldError is one problem in a lab file: file:line: field: message.
type FieldError = strictyaml.FieldError

// FieldErrors is every problem found in one or more files.
type FieldErrors = strictyaml.FieldErrors

// Catalog is the set of labs labd serves, loaded from the labs folder.
type Catalog struct {
	labs  map[string]*Definition
	order []string
}

// Lab returns the lab with id.
func (c *Catalog) Lab(id string) (*Definition, bool) {
	d, ok := c.labs[id]
	return d, ok
}

// All returns every lab in id order.
func (c *Catalog) All() []*Definition {
	out := make([]*Definition, len(c.order))
	for i, id := range c.order {
		out[i] = c.labs[id]
	}
	return out
}

// NewCatalog makes a catalog of already validated definitions (for tests).
func NewCatalog(defs ...*Definition) *Catalog {
	c := &Catalog{labs: map[string]*Definition{}}
	for _, d := range defs {
		c.labs[d.ID] = d
		c.order = append(c.order, d.ID)
	}
	sort.Strings(c.order)
	return c
}

// LoadCatalog loads and validates every labs/<id>/lab.yaml under dir. The
// images folder holds image recipes, not labs. On any problem it returns
// FieldErrors naming every file, line and field at fault.
func LoadCatalog(dir string) (*Catalog, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read labs folder: %w", err)
	}
	var errs FieldErrors
	var defs []*Definition
	files := map[string]string{} // id -> file
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "images" || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		file := filepath.Join(dir, e.Name(), "lab.yaml")
		d, err := LoadDefinition(file)
		if err != nil {
			if fe, ok := err.(FieldErrors); ok {
				errs = append(errs, fe...)
				continue
			}
			return nil, err
		}
		if other, dup := files[d.ID]; dup {
			errs = append(errs, FieldError{File: file, Line: 1, Field: "id", Msg: fmt.Sprintf("duplicate lab id %q (also in %s)", d.ID, other)})
			continue
		}
		files[d.ID] = file
		defs = append(defs, d)
	}
	if len(errs) > 0 {
		return nil, errs.Sorted()
	}
	return NewCatalog(defs...), nil
}

// LoadDefinition reads, decodes and validates one lab.yaml, and reads the
// scripts it names.
func LoadDefinition(file string) (*Definition, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, FieldErrors{{File: file, Msg: "missing: every folder in labs/ needs a lab.yaml"}}
		}
		return nil, fmt.Errorf("read lab: %w", err)
	}
	return ParseDefinition(file, data, os.DirFS(filepath.Dir(file)))
}

var (
	idPattern   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	imagPattern = regexp.MustCompile(`^[a-z0-9]+([._/-][a-z0-9]+)*(:[A-Za-z0-9_.-]{1,128})?$`)
)

// ParseDefinition decodes and validates lab.yaml data; files named by the lab
// (step texts, scripts) are looked up in dir, the lab's folder.
func ParseDefinition(file string, data []byte, dir fs.FS) (*Definition, error) {
	d := &Definition{File: file, Dir: filepath.Dir(file)}
	dec := strictyaml.Decode(file, data, d)
	// Check the meaning too, unless the file is not a mapping at all, so one
	// run shows every problem.
	if dec.Decoded() {
		v := validator{Decoder: dec, dir: dir}
		v.validate(d)
	}
	if errs := dec.Errs(); errs != nil {
		return nil, errs
	}
	return d, nil
}

type validator struct {
	*strictyaml.Decoder
	dir fs.FS
}

func (v *validator) validate(d *Definition) {
	if !idPattern.MatchString(d.ID) {
		v.Fail("id", "want lowercase letters, digits and dashes (at most 63), found %q", d.ID)
	} else if base := filepath.Base(d.Dir); base != "." && base != d.ID {
		v.Fail("id", "must match the lab's folder name %q", base)
	}
	v.text("title", d.Title)
	if d.TimeLimit == 0 {
		d.TimeLimit = Duration(DefaultTimeLimit)
	}
	if d.IdleTimeout == 0 {
		d.IdleTimeout = Duration(DefaultIdleTimeout)
	}
	if d.ExtendBy == 0 {
		d.ExtendBy = Duration(min(DefaultExtendBy, d.TimeLimit.D()))
	}
	if d.TimeLimit < d.Duration {
		v.Fail("time_limit", "%s is shorter than the lab's duration %s", d.TimeLimit, d.Duration)
	}
	if d.ExtendBy > d.TimeLimit {
		v.Fail("extend_by", "%s is longer than time_limit %s", d.ExtendBy, d.TimeLimit)
	}

	if len(d.Nodes) == 0 {
		v.Fail("nodes", "a lab needs at least one node")
	}
	defer v.resources(d)
	if len(d.Nodes) > MaxNodes {
		v.Fail("nodes", "at most %d nodes, found %d", MaxNodes, len(d.Nodes))
	}
	nodes := map[string]bool{}
	for i := range d.Nodes {
		n := &d.Nodes[i]
		p := fmt.Sprintf("nodes[%d]", i)
		switch {
		case !idPattern.MatchString(n.Name):
			v.Fail(p+".name", "want a host name (lowercase letters, digits, dashes), found %q", n.Name)
		case nodes[n.Name]:
			v.Fail(p+".name", "duplicate node name %q", n.Name)
		}
		nodes[n.Name] = true
		if !imagPattern.MatchString(n.Image) {
			v.Fail(p+".image", "want an image name such as academy/base, found %q", n.Image)
		}
		if n.Memory == 0 {
			n.Memory = DefaultMemory
		}
		if n.Memory < 16<<20 || n.Memory > 64<<30 {
			v.Fail(p+".memory", "want between 16Mi and 64Gi, found %s", n.Memory)
		}
		if n.CPUs == 0 {
			n.CPUs = DefaultCPUs
		}
		if n.CPUs < 0.01 || n.CPUs > 64 || math.IsNaN(n.CPUs) {
			v.Fail(p+".cpus", "want between 0.01 and 64, found %v", n.CPUs)
		}
		if n.Pids == 0 {
			n.Pids = DefaultPids
		}
		if n.Pids < 16 || n.Pids > 65536 {
			v.Fail(p+".pids", "want between 16 and 65536, found %d", n.Pids)
		}
		if n.Command == nil {
			n.Command = DefaultCommand
		} else if len(n.Command) == 0 || n.Command[0] == "" {
			v.Fail(p+".command", "want a program and its arguments")
		}
		v.ports(p, n.Name, n.Ports)
		for j, vol := range n.Volumes {
			if !strings.HasPrefix(vol, "/") || strings.Contains(vol, "..") || vol == "/" {
				v.Fail(fmt.Sprintf("%s.volumes[%d]", p, j), "want an absolute path inside the node, found %q", vol)
			}
		}
	}

	v.addresses(d.Nodes)
	for i := range d.Setup {
		v.action(fmt.Sprintf("setup[%d]", i), &d.Setup[i], nodes, true)
	}
	v.foreground("foreground", &d.Foreground, d)
	v.languages(d)

	if len(d.Steps) == 0 {
		v.Fail("steps", "a lab needs at least one step")
	}
	steps := map[string]bool{}
	for i := range d.Steps {
		s := &d.Steps[i]
		p := fmt.Sprintf("steps[%d]", i)
		switch {
		case !idPattern.MatchString(s.ID):
			v.Fail(p+".id", "want lowercase letters, digits and dashes, found %q", s.ID)
		case steps[s.ID]:
			v.Fail(p+".id", "duplicate step id %q", s.ID)
		}
		steps[s.ID] = true
		v.text(p+".title", s.Title)
		for _, lang := range []string{"zh", "en"} {
			v.file(p+".text", s.Text+"."+lang+".md")
		}
		c := &s.Check
		v.node(p+".check.node", c.Node, nodes)
		switch {
		case c.Run != "" && c.Script != "":
			v.Fail(p+".check", "give run or script, not both")
		case c.Run != "":
			c.Body = c.Run
		case c.Script != "":
			c.Body = v.script(p+".check.script", c.Script)
		default:
			v.Fail(p+".check", "missing run or script")
		}
		if c.Timeout == 0 {
			c.Timeout = Duration(DefaultCheckTimeout)
		}
		for j := range s.Faults {
			f := &s.Faults[j]
			fp := fmt.Sprintf("%s.faults[%d]", p, j)
			v.node(fp+".node", f.Node, nodes)
			switch {
			case (f.Script == "") == (f.Action == ""):
				v.Fail(fp, "give script or action, one of them")
			case f.Script != "":
				f.Body = v.script(fp+".script", f.Script)
			default:
				if field, msg := validFault(*f); msg != "" {
					v.Fail(fp+"."+field, "%s", msg)
				}
			}
		}
		for j := range s.OnEnter {
			v.action(fmt.Sprintf("%s.on_enter[%d]", p, j), &s.OnEnter[j], nodes, false)
		}
		v.foreground(p+".foreground", &s.Foreground, d)
		if s.Solution.Node == "" {
			s.Solution.Node = c.Node
		}
		v.node(p+".solution.node", s.Solution.Node, nodes)
		s.Solution.Body = v.script(p+".solution", s.Solution.Script)
	}
}

// action checks a setup or on_enter action: a script or a command on
// node or nodes, or (setup only) a copy from one node to others.
func (v *validator) action(p string, s *Script, nodes map[string]bool, copyOK bool) {
	switch {
	case s.Copy != "" && copyOK:
		if s.Script != "" || s.Run != "" || s.Node != "" || len(s.Nodes) > 0 {
			v.Fail(p, "a copy takes from and to, not node, nodes, script or run")
		}
		if !strings.HasPrefix(s.Copy, "/") || strings.Contains(s.Copy, "..") || s.Copy == "/" {
			v.Fail(p+".copy", "want an absolute path inside the node, found %q", s.Copy)
		}
		v.node(p+".from", s.From, nodes)
		if len(s.To) == 0 {
			v.Fail(p+".to", "copy to which nodes?")
		}
		for j, n := range s.To {
			v.node(fmt.Sprintf("%s.to[%d]", p, j), n, nodes)
		}
	case s.Copy != "" || s.From != "" || len(s.To) > 0:
		v.Fail(p, "on_enter runs a script or a command; copies belong in setup")
	case s.Script == "" && s.Run == "":
		if copyOK {
			v.Fail(p, "want a script or run (with node or nodes) or a copy (with from and to)")
		} else {
			v.Fail(p, "want a script or run, with node or nodes")
		}
	case s.Script != "" && s.Run != "":
		v.Fail(p, "give script or run, not both")
	default:
		if (s.Node == "") == (len(s.Nodes) == 0) {
			v.Fail(p, "give node or nodes, one of them")
		}
		if s.Node != "" {
			v.node(p+".node", s.Node, nodes)
		}
		for j, n := range s.Nodes {
			v.node(fmt.Sprintf("%s.nodes[%d]", p, j), n, nodes)
		}
		if s.Run != "" {
			s.Body = s.Run
		} else {
			s.Body = v.script(p+".script", s.Script)
		}
	}
	if s.Timeout == 0 {
		s.Timeout = Duration(DefaultSetupTimeout)
	}
}

// foreground checks what a page types into a terminal, if anything: a
// command or a script, on a node with a terminal.
func (v *validator) foreground(p string, f *Foreground, d *Definition) {
	if *f == (Foreground{}) {
		return
	}
	if n, ok := d.Node(f.Node); !ok {
		v.Fail(p+".node", "no node named %q in nodes", f.Node)
	} else if !n.Terminal {
		v.Fail(p+".node", "node %q has no terminal to type into", f.Node)
	}
	switch {
	case f.Run != "" && f.Script != "":
		v.Fail(p, "give run or script, not both")
	case f.Run != "":
		f.Body = f.Run
	case f.Script != "":
		f.Body = v.script(p+".script", f.Script)
	default:
		v.Fail(p, "missing run or script")
	}
}

// languages checks source_lang and untranslated, and warns of each
// untranslated language: its texts are copies, not translations.
func (v *validator) languages(d *Definition) {
	if d.SourceLang != "" && !slices.Contains(Languages, d.SourceLang) {
		v.Fail("source_lang", "want one of %s, found %q", strings.Join(Languages, ", "), d.SourceLang)
		return
	}
	if len(d.Untranslated) > 0 && d.SourceLang == "" {
		v.Fail("untranslated", "copies of which language? give source_lang")
		return
	}
	seen := map[string]bool{}
	for i, lang := range d.Untranslated {
		p := fmt.Sprintf("untranslated[%d]", i)
		switch {
		case !slices.Contains(Languages, lang):
			v.Fail(p, "want one of %s, found %q", strings.Join(Languages, ", "), lang)
		case lang == d.SourceLang:
			v.Fail(p, "%s is the source language", lang)
		case seen[lang]:
			v.Fail(p, "%s given twice", lang)
		default:
			d.Warnings = append(d.Warnings, FieldError{File: d.File, Line: v.Line("untranslated"), Field: "untranslated",
				Msg: fmt.Sprintf("%s texts are copies of %s", lang, d.SourceLang)})
		}
		seen[lang] = true
	}
}

// addresses checks the nodes' extra addresses: usable IPv4 host addresses
// in CIDR form, each on one node only.
func (v *validator) addresses(ns []Node) {
	owner := map[netip.Addr]string{}
	for i, n := range ns {
		for j, a := range n.Addresses {
			p := fmt.Sprintf("nodes[%d].addresses[%d]", i, j)
			pfx, err := netip.ParsePrefix(a)
			addr := pfx.Addr()
			switch {
			case err != nil || !addr.Is4():
				v.Fail(p, "want an IPv4 address with its prefix length, such as 172.30.1.2/16, found %q", a)
				continue
			case addr.IsLoopback(), addr.IsMulticast(), addr.IsUnspecified(), addr.IsLinkLocalUnicast(), addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
				v.Fail(p, "%s is not an address a node can hold", addr)
				continue
			case pfx.Bits() <= 30 && (addr == pfx.Masked().Addr() || addr == broadcast(pfx)):
				v.Fail(p, "%s is the network's own or broadcast address, not a host's", addr)
				continue
			}
			if other, dup := owner[addr]; dup {
				v.Fail(p, "%s is also given to node %s", addr, other)
				continue
			}
			owner[addr] = n.Name
		}
	}
}

func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := ^uint32(0) >> p.Bits()
	for i := range 4 {
		b[i] |= byte(host >> (24 - 8*i))
	}
	return netip.AddrFrom4(b)
}

func (v *validator) text(path string, t Text) {
	if strings.TrimSpace(t.ZH) == "" {
		v.Fail(path+".zh", "empty")
	}
	if strings.TrimSpace(t.EN) == "" {
		v.Fail(path+".en", "empty")
	}
}

func (v *validator) node(path, name string, nodes map[string]bool) {
	if !nodes[name] {
		v.Fail(path, "no node named %q in nodes", name)
	}
}

// file checks that name exists in the lab folder and stays inside it.
func (v *validator) file(path, name string) []byte {
	if !fs.ValidPath(name) || strings.HasPrefix(name, "/") {
		v.Fail(path, "want a path inside the lab folder, found %q", name)
		return nil
	}
	data, err := fs.ReadFile(v.dir, name)
	if err != nil {
		v.Fail(path, "file %s not found in the lab folder", name)
		return nil
	}
	return data
}

func (v *validator) script(path, name string) string {
	data := v.file(path, name)
	if data != nil && len(data) > 100<<10 {
		v.Fail(path, "script %s is larger than 100 KiB", name)
	}
	return string(data)
}

// resources checks the declared costs and fills in the default memory
// (after the nodes have their defaults).
func (v *validator) resources(d *Definition) {
	r := &d.Resources
	if r.Memory == 0 {
		for _, n := range d.Nodes {
			r.Memory += n.Memory
		}
	} else if r.Memory < 1<<20 || r.Memory > 1<<40 {
		v.Fail("resources.memory", "want between 1Mi and 1Ti, found %s", r.Memory)
	}
	if r.StartCPUs < 0 || r.StartCPUs > 64 || math.IsNaN(r.StartCPUs) {
		v.Fail("resources.start_cpus", "want between 0 and 64, found %v", r.StartCPUs)
	}
	if r.AIO < 0 || r.AIO > 1<<24 {
		v.Fail("resources.aio", "want between 0 and 16777216 kernel AIO slots, found %d", r.AIO)
	}
}

package lab

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Definition is a parsed and validated labs/<id>/lab.yaml.
type Definition struct {
	ID          string   `field:"id,required"`
	Title       Text     `field:"title,required"`
	Summary     Text     `field:"summary"`
	Duration    Duration `field:"duration,required"`
	TimeLimit   Duration `field:"time_limit"`
	IdleTimeout Duration `field:"idle_timeout"`
	ExtendBy    Duration `field:"extend_by"`
	Nodes       []Node   `field:"nodes,required"`
	Setup       []Script `field:"setup"`
	Steps       []Step   `field:"steps,required"`
	// Foreground is typed into a terminal when the lab's first terminal opens.
	Foreground Foreground `field:"foreground"`
	// SourceLang is the language the texts were written in; Untranslated
	// are languages whose texts are copies of it (an imported lab's).
	SourceLang   string   `field:"source_lang"`
	Untranslated []string `field:"untranslated"`
	// Resources is what one environment of the lab costs the host, for
	// admission (admission.go).
	Resources Resources `field:"resources"`
	File      string    `field:"-"` // path of lab.yaml
	Dir       string    `field:"-"` // the lab's folder
	// Warnings are what validate reports without rejecting the lab.
	Warnings FieldErrors `field:"-"`
}

// Languages are the languages of a lab's texts.
var Languages = []string{"zh", "en"}

// Resources is what one environment of a lab costs the host: admission
// starts another only when the host has it left.
type Resources struct {
	// Memory it uses once settled; default the sum of its nodes' memory.
	Memory Size `field:"memory"`
	// StartCPUs is how many cores its setup keeps busy; setups are
	// staggered so those running at once fit the host's cores. 0: not counted.
	StartCPUs float64 `field:"start_cpus"`
	// AIO is how many kernel AIO slots (fs.aio-nr) it holds: a Ceph
	// BlueStore OSD takes two contexts of bdev_aio_max_queue_depth.
	AIO int64 `field:"aio"`
}

// Node is one container of a lab environment.
type Node struct {
	Name     string   `field:"name,required"`
	Image    string   `field:"image,required"`
	Memory   Size     `field:"memory"`
	CPUs     float64  `field:"cpus"`
	Pids     int64    `field:"pids"`
	Terminal bool     `field:"terminal"`
	Volumes  []string `field:"volumes"` // absolute paths inside the node kept on a session volume
	// Command is the node's main process; by default it only waits. A Ceph
	// node's starts the daemons the node holds, as a server does at boot.
	Command []string `field:"command"`
	// Addresses are extra IPv4 addresses (CIDR) on the node's interface,
	// besides its own on the session network: imported scenarios hard-code them.
	Addresses []string `field:"addresses"`
	// Ports are the node's web ports labd proxies to the trainee's browser.
	Ports []Port `field:"ports"`
}

// Script is one setup action, run after every node has started, in order:
// a script on one node (node), the same script on several nodes at once
// (nodes), or a copy of a file or folder from one node to others (copy,
// from, to). The script's body is read from the lab folder at load time,
// or is the command run. A step's on_enter actions have the same shape,
// without copy.
type Script struct {
	Node    string   `field:"node"`
	Nodes   []string `field:"nodes"`
	Script  string   `field:"script"` // path relative to the lab folder
	Run     string   `field:"run"`    // or a command
	Copy    string   `field:"copy"`   // an absolute path in the node from
	From    string   `field:"from"`
	To      []string `field:"to"`
	Timeout Duration `field:"timeout"`
	Body    string   `field:"-"`
}

// Targets are the nodes a script runs on.
func (s Script) Targets() []string {
	if s.Node != "" {
		return []string{s.Node}
	}
	return s.Nodes
}

// Step is one task of a lab, with its check.
type Step struct {
	ID       string   `field:"id,required"`
	Title    Text     `field:"title,required"`
	Text     string   `field:"text,required"` // steps/01-x: the .zh.md and .en.md beside it
	Check    Check    `field:"check,required"`
	Hint     Text     `field:"hint"`
	Solution Solution `field:"solution,required"`
	// Faults are applied when the step is entered: when the session becomes
	// ready for the first step, else when the step before it first passes.
	Faults []Fault `field:"faults"`
	// OnEnter runs hidden, as root, once per session when the trainee
	// enters the step (the first step: when the session becomes ready).
	OnEnter []Script `field:"on_enter"`
	// Foreground is typed into a terminal when the step's page opens.
	Foreground Foreground `field:"foreground"`
}

// Foreground is what the lab page types into a node's terminal: a command
// (run) or a script's lines. The zero Foreground types nothing.
type Foreground struct {
	Node   string `field:"node,required"`
	Run    string `field:"run"`
	Script string `field:"script"`
	Body   string `field:"-"`
}

// Commands are the lines to type, in order: the script's lines without its
// #! line and the blank lines around them (a blank line inside, as in a
// here-document, is kept).
func (f Foreground) Commands() []string {
	var out []string
	for i, line := range strings.Split(strings.ReplaceAll(f.Body, "\r\n", "\n"), "\n") {
		if i == 0 && strings.HasPrefix(line, "#!") {
			continue
		}
		if len(out) == 0 && strings.TrimSpace(line) == "" {
			continue
		}
		out = append(out, line)
	}
	for len(out) > 0 && strings.TrimSpace(out[len(out)-1]) == "" {
		out = out[:len(out)-1]
	}
	return out
}

// Fault breaks something on purpose, for a trainee to find and repair: a
// script run on a node, or an action on the node itself.
type Fault struct {
	Node   string `field:"node,required"`
	Script string `field:"script"`
	Action string `field:"action"` // stop, kill, start, disconnect, connect, fill
	Path   string `field:"path"`   // fill: a folder on the file system to fill
	Size   Size   `field:"size"`   // fill: how much to write there
	Body   string `field:"-"`
}

// FaultActions are what a Fault's action may be.
var FaultActions = []string{"stop", "kill", "start", "disconnect", "connect", "fill"}

// MaxFill bounds a fill fault: it writes to the host's disk.
const MaxFill = Size(16 << 30)

// validFault returns what is wrong with an action fault, or "".
func validFault(f Fault) (field, msg string) {
	switch {
	case !slices.Contains(FaultActions, f.Action):
		return "action", fmt.Sprintf("want one of %s, found %q", strings.Join(FaultActions, ", "), f.Action)
	case f.Action != "fill" && (f.Path != "" || f.Size != 0):
		return "path", "only a fill takes path and size"
	case f.Action == "fill" && (!strings.HasPrefix(f.Path, "/") || strings.Contains(f.Path, "..")):
		return "path", fmt.Sprintf("want an absolute folder inside the node, found %q", f.Path)
	case f.Action == "fill" && (f.Size <= 0 || f.Size > MaxFill):
		return "size", fmt.Sprintf("want a size up to %s", MaxFill)
	}
	return "", ""
}

// Solution solves a step: a script path (run on the check's node), or
// {node, script} to run it elsewhere. The lab test suite runs every one;
// trainees see it on request.
type Solution struct {
	Node   string
	Script string
	Body   string
}

func (s *Solution) DecodeNode(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		s.Script = n.Value
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("%s: want a single value", k)
			}
			switch k {
			case "node":
				s.Node = v.Value
			case "script":
				s.Script = v.Value
			default:
				return fmt.Errorf("unknown field %q (known: node, script)", k)
			}
		}
	default:
		return errors.New("want a script path or {node, script}")
	}
	if s.Script == "" {
		return errors.New("missing the script")
	}
	return nil
}

// Check decides whether a step is done: a command (run) or a script file run in
// a node; exit 0 passes, and lines starting "FAIL:" are shown to the trainee.
type Check struct {
	Node    string   `field:"node,required"`
	Run     string   `field:"run"`
	Script  string   `field:"script"`
	Timeout Duration `field:"timeout"`
	Body    string   `field:"-"` // the command or the script's text
}

// Text is a bilingual string.
type Text struct {
	ZH string `field:"zh,required" json:"zh"`
	EN string `field:"en,required" json:"en"`
}

// Duration is a time.Duration written as "45m" or "2h".
type Duration time.Duration

func (d *Duration) DecodeNode(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("want a duration such as 45m or 2h, found %q", n.Value)
	}
	if v <= 0 {
		return fmt.Errorf("want a positive duration, found %q", n.Value)
	}
	*d = Duration(v)
	return nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// Size is a byte count written as 512Mi, 1.5Gi, 1G or a plain number of bytes.
type Size int64

var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40},
	{"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12},
}

// ParseSize parses a Kubernetes-style quantity of bytes.
func ParseSize(s string) (Size, error) {
	num, mult := s, 1.0
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = n, u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f <= 0 || f*mult > 1<<50 || strings.ContainsAny(num, "eE+-xXpPnN_") {
		return 0, fmt.Errorf("want a size such as 512Mi or 2Gi, found %q", s)
	}
	return Size(f * mult), nil
}

func (s *Size) DecodeNode(n *yaml.Node) error {
	v, err := ParseSize(n.Value)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

func (s Size) String() string {
	switch {
	case s%(1<<30) == 0:
		return fmt.Sprintf("%dGi", s>>30)
	case s%(1<<20) == 0:
		return fmt.Sprintf("%dMi", s>>20)
	}
	return strconv.FormatInt(int64(s), 10)
}

// Node returns the node named name.
func (d *Definition) Node(name string) (Node, bool) {
	for _, n := range d.Nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// Step returns the step with id.
func (d *Definition) Step(id string) (Step, bool) {
	for _, s := range d.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

// Defaults for fields a lab file may leave out.
const (
	DefaultTimeLimit    = time.Hour
	DefaultIdleTimeout  = 30 * time.Minute
	DefaultExtendBy     = 30 * time.Minute
	DefaultMemory       = Size(256 << 20)
	DefaultCPUs         = 1.0
	DefaultPids         = 512
	DefaultCheckTimeout = 30 * time.Second
	DefaultSetupTimeout = 5 * time.Minute
	// MaxNodes bounds a lab's size.
	MaxNodes = 32
)

// DefaultCommand keeps a node running and does nothing else.
var DefaultCommand = []string{"sleep", "2147483647"}

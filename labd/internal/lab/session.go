package lab

import (
	"bytes"
	"context"
	"io"
	"time"
)

// State is where a lab session is in its life.
type State string

const (
	Queued       State = "queued"       // waiting in line for capacity; starts by itself
	Provisioning State = "provisioning" // containers starting, setup running
	Ready        State = "ready"        // the trainee can work
	Failed       State = "failed"       // provisioning failed; Reason says why
	Ended        State = "ended"        // destroyed: by the user, the time limit or the idle timeout
)

// Live reports whether the session holds, is building or waits for an environment.
func (s State) Live() bool { return s == Queued || s == Provisioning || s == Ready }

// Session is one user's running instance of a lab.
type Session struct {
	ID      string
	Lab     string
	Owner   string // user id; empty while the session waits in a warm pool
	State   State
	Reason  string // why it failed or ended
	Nodes   []NodeAddr
	Steps   []StepResult
	Created time.Time
	Ready   time.Time // when it last became ready
	Expires time.Time // the time limit
	// Extended is how much time extensions have added so far.
	Extended time.Duration
	// Activity is the last sign of the trainee (a check, terminal input).
	Activity time.Time
	Ended    time.Time
	// Reservation is the key (a class) whose reserved pool environment the
	// session was claimed from; it counts against that reservation.
	Reservation string
	// EnvLeft: the session has ended or failed but its environment could not
	// be removed yet; it still counts against MaxSessions while the reaper
	// retries.
	EnvLeft bool
	// Queue is the session's place in line while it is queued (not stored).
	Queue *Place
	// Notice tells the trainee why a setup failed for the host's sake and
	// what happens next (not stored).
	Notice *Notice
}

// Place is a queued session's place in line.
type Place struct {
	Position int // 1 is next
	// Estimate is how long until it is expected to be ready; 0 when unknown.
	Estimate time.Duration
}

// Pool reports whether the session is an unclaimed warm-pool environment.
func (s *Session) Pool() bool { return s.Owner == "" }

// NodeAddr is where a node of a session runs.
type NodeAddr struct {
	Name      string
	Container string // runtime id
	Address   string // IP on the session network; stable across restarts
}

// StepResult is the latest check of one step.
type StepResult struct {
	Step     string
	Passed   bool
	Output   string // FAIL: lines, shown to the trainee
	Detail   string // the whole output, for lecturers and admins
	Checked  time.Time
	Duration time.Duration
}

// Env is what a runtime creates for a session.
type Env struct {
	Session string
	Nodes   []NodeAddr
}

// EnvSpec is what the runtime must create: one network, the nodes on it.
type EnvSpec struct {
	Session string
	Lab     string
	Owner   string
	Nodes   []Node
}

// Command is a program run inside a node.
type Command struct {
	// Script is run by Interpreter -c; the interpreter comes from its #! line
	// when it has one, else /bin/sh.
	Script  string
	Timeout time.Duration
	// MaxOutput bounds the captured output; the rest is dropped.
	MaxOutput int
	// Env is added to the command's environment (NAME=value), after
	// LAB_SESSION and LAB_NODE.
	Env []string
}

// Output collects a Command's output up to its MaxOutput (64 KiB when 0)
// and drops the rest, so a chatty command cannot fill labd's memory.
type Output struct {
	bytes.Buffer
	Max int
}

func (o *Output) Write(p []byte) (int, error) {
	max := o.Max
	if max <= 0 {
		max = 64 << 10
	}
	if room := max - o.Len(); room > 0 {
		o.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// Result is how a Command ended.
type Result struct {
	ExitCode int
	Output   []byte // stdout and stderr interleaved
	TimedOut bool
	Duration time.Duration
	// Cause, when the command failed, is what the runtime saw in the node
	// that explains it (out of processes, out of memory, stopped), if anything.
	Cause Cause
}

// Runtime runs lab environments: the Docker adapter in production, local
// processes in development. It must be safe for concurrent use.
type Runtime interface {
	// Create makes the network and the nodes of spec and starts them. On error
	// it leaves nothing behind.
	Create(ctx context.Context, spec EnvSpec) (Env, error)
	// Exec runs cmd in a node of a session and waits for it to end.
	Exec(ctx context.Context, session, node string, cmd Command) (Result, error)
	// Destroy removes everything of a session; destroying what is gone is not an error.
	Destroy(ctx context.Context, session string) error
	// Sessions lists the ids of every session that has anything in the runtime.
	Sessions(ctx context.Context) ([]string, error)
	// Copy copies the file or folder path of node from to the same path in
	// each node of to.
	Copy(ctx context.Context, session, from, path string, to []string) error
}

// Store keeps sessions and step results. Implementations must be safe for
// concurrent use.
type Store interface {
	SaveSession(ctx context.Context, s *Session) error
	Session(ctx context.Context, id string) (*Session, error)
	// Sessions lists sessions matching f, newest first.
	Sessions(ctx context.Context, f Filter) ([]*Session, error)
	SaveStepResult(ctx context.Context, session string, r StepResult) error
	ClearStepResults(ctx context.Context, session string) error
}

// Filter selects sessions in Store.Sessions.
type Filter struct {
	Owner string // "" for any
	// Owners, when not empty, also admits these owners (with Owner: either).
	Owners []string
	Live   bool // only queued, provisioning or ready
	Limit  int  // 0 for no limit
}

// Shell is an interactive shell in a node, on a terminal: its output is
// read, its input written. Read returns io.EOF after the last output.
type Shell interface {
	io.ReadWriter
	// Resize sets the terminal size.
	Resize(cols, rows int) error
	// Wait returns the exit code; call it after Read has returned io.EOF.
	Wait() (int, error)
	// Kill ends the shell and what it started.
	Kill() error
}

// Faults acts on nodes themselves, for fault injection: stop, kill, start,
// disconnect (from the session's network), connect.
type Faults interface {
	Fault(ctx context.Context, session, node, action string) error
}

// Shells starts shells in nodes; runtimes that offer terminals implement it.
type Shells interface {
	StartShell(ctx context.Context, session, node string, cols, rows int) (Shell, error)
}

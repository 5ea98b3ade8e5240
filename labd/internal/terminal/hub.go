package terminal

import (
	"bytes"
	"errors"
	"sync"
	"time"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// Sizes of a hub's buffers.
const (
	RingSize = 1 << 20   // output kept for resume
	Window   = 384 << 10 // unacked output after which the shell is paused
	chunk    = 32 << 10  // the most output one frame carries

	// InputQueue bounds the input waiting for the shell: input beyond it is
	// dropped and the terminal reported stalled. A shell stops reading when
	// it is stopped (Ctrl-S, Ctrl-Z) or blocked on its own output, and a
	// write to its terminal then blocks; only the hub's input goroutine
	// waits, never a connection.
	InputQueue = 256 << 10
	// InputStall is how long one write to the shell may take before the
	// terminal is reported stalled.
	InputStall = 5 * time.Second
)

// Hub is one shell and everyone connected to it. A single goroutine reads
// the shell's output into a ring with absolute stream offsets. It pauses
// only when the writer (the owner's connection, connected or not) has more
// than Window bytes unacked: then the shell blocks on its terminal, and
// nothing is ever lost for the writer. Observers read the same ring at
// their own pace; one that falls behind the ring is skipped forward.
type Hub struct {
	shell lab.Shell
	rec   *Recorder

	mu       sync.Mutex
	cond     *sync.Cond
	ring     []byte
	head     uint64 // stream offset of the next output byte
	acked    uint64 // what the writer has processed
	cols     int
	rows     int
	exited   bool
	code     int
	closed   bool
	why      string  // why it closed: "ended" or "restarted"
	writer   *Client // the connected writer, if any
	lastSeen time.Time
	inq      [][]byte // input waiting for the shell
	queued   int      // bytes in inq
	stalled  bool     // the shell takes no input
	stateSeq uint64   // counts changes of stalled
	// OnInput is called on writer input (the lab session's idle timer).
	onInput func()
}

// NewHub starts pumping sh's output. rec may be nil.
func NewHub(sh lab.Shell, cols, rows int, rec *Recorder, onInput func()) *Hub {
	h := &Hub{shell: sh, rec: rec, ring: make([]byte, RingSize), cols: cols, rows: rows,
		lastSeen: time.Now(), onInput: onInput}
	h.cond = sync.NewCond(&h.mu)
	go h.pump()
	go h.feed()
	return h
}

// feed writes queued input to the shell. A write that takes longer than
// InputStall marks the terminal stalled until the queue drains again; Close
// kills the shell, which ends a write that never returns.
func (h *Hub) feed() {
	for {
		h.mu.Lock()
		for len(h.inq) == 0 && !h.closed {
			h.cond.Wait()
		}
		if h.closed {
			h.inq, h.queued = nil, 0
			h.mu.Unlock()
			return
		}
		p := h.inq[0]
		h.inq[0] = nil
		h.inq = h.inq[1:]
		h.mu.Unlock()

		slow := time.AfterFunc(InputStall, func() { h.setStalled(true) })
		_, err := h.shell.Write(p)
		slow.Stop()

		h.mu.Lock()
		h.queued -= len(p)
		if err != nil { // the shell is gone: input has nowhere to go
			h.inq, h.queued = nil, 0
			h.mu.Unlock()
			h.setStalled(true)
			return
		}
		drained := h.queued < InputQueue/2
		h.mu.Unlock()
		if drained {
			h.setStalled(false)
		}
	}
}

// setStalled records whether the shell takes input, for every client.
func (h *Hub) setStalled(stalled bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stalled != stalled && !h.closed {
		h.stalled = stalled
		h.stateSeq++
		h.cond.Broadcast()
	}
}

// Stalled reports whether the shell has stopped taking input.
func (h *Hub) Stalled() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stalled
}

func (h *Hub) pump() {
	buf := make([]byte, chunk)
	for {
		h.mu.Lock()
		for h.head-h.acked >= Window && !h.closed {
			h.cond.Wait()
		}
		closed := h.closed
		h.mu.Unlock()
		if closed {
			return
		}
		n, err := h.shell.Read(buf)
		if n > 0 {
			h.mu.Lock()
			h.append(buf[:n])
			h.cond.Broadcast()
			h.mu.Unlock()
			if h.rec != nil {
				h.rec.Output(buf[:n])
			}
		}
		if err != nil {
			code, werr := h.shell.Wait()
			if werr != nil {
				code = -1
			}
			if h.rec != nil {
				h.rec.Exit(code)
			}
			h.mu.Lock()
			h.exited, h.code = true, code
			h.cond.Broadcast()
			h.mu.Unlock()
			return
		}
	}
}

// append copies p into the ring (h.mu held).
func (h *Hub) append(p []byte) {
	for len(p) > 0 {
		at := int(h.head % RingSize)
		n := copy(h.ring[at:], p)
		p = p[n:]
		h.head += uint64(n)
	}
}

// start is the oldest offset still in the ring (h.mu held).
func (h *Hub) start() uint64 {
	if h.head < RingSize {
		return 0
	}
	return h.head - RingSize
}

// read copies output from offset off into dst (h.mu held).
func (h *Hub) read(dst []byte, off uint64) int {
	n := 0
	for n < len(dst) && off < h.head {
		at := int(off % RingSize)
		end := min(RingSize, at+len(dst)-n, at+int(h.head-off))
		c := copy(dst[n:], h.ring[at:end])
		n += c
		off += uint64(c)
	}
	return n
}

// Exited reports whether the shell has ended and all its output was read.
func (h *Hub) Exited() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.exited
}

// Idle reports how long the hub has been without a writer (0 while one is connected).
func (h *Hub) Idle() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.writer != nil {
		return 0
	}
	return time.Since(h.lastSeen)
}

// Close kills the shell and ends every client ("ended").
func (h *Hub) Close() { h.closeAs("ended") }

// closeAs kills the shell and ends every client, telling them why.
func (h *Hub) closeAs(why string) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed, h.why = true, why
	h.cond.Broadcast()
	h.mu.Unlock()
	h.shell.Kill()
	if h.rec != nil {
		h.rec.Close()
	}
}

// Client is one connection to a hub.
type Client struct {
	hub      *Hub
	Observer bool
	pos      uint64
	state    uint64 // the hub's stateSeq the client was last told
	gone     bool
	replaced bool
	// Hello is what the connection is told first.
	Hello Hello
}

// ErrClosed is returned by Next once the hub or the client has closed.
var ErrClosed = errors.New("terminal closed")

// Attach connects a client that has processed output up to from (0 for a
// new screen). A writer replaces the previous writer, which is returned so
// the caller can tell it; observers never displace anyone.
func (h *Hub) Attach(observer bool, from uint64) (c *Client, replaced *Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c = &Client{hub: h, Observer: observer, state: h.stateSeq}
	reset := from < h.start() || from > h.head
	if reset {
		c.pos = h.start()
	} else {
		c.pos = from
	}
	if !observer {
		replaced = h.writer
		if replaced != nil {
			replaced.gone, replaced.replaced = true, true
		}
		h.writer = c
		// The client has everything before its position.
		h.acked = max(h.acked, c.pos)
		h.cond.Broadcast()
	}
	role := "writer"
	if observer {
		role = "observer"
	}
	c.Hello = Hello{Protocol: Protocol, Role: role, Cols: h.cols, Rows: h.rows, Offset: c.pos, Reset: reset, Stalled: h.stalled}
	return c, replaced
}

// Detach ends a client.
func (c *Client) Detach() {
	h := c.hub
	h.mu.Lock()
	c.gone = true
	if h.writer == c {
		h.writer = nil
		h.lastSeen = time.Now()
	}
	h.cond.Broadcast()
	h.mu.Unlock()
}

// Event is what Next hands a connection: output, a change of state, or the end.
type Event struct {
	Offset  uint64 // of the output
	N       int    // output bytes copied
	State   bool   // the shell's input state changed: see Stalled
	Stalled bool
	Exit    bool // the shell has ended and the client has all its output
	Code    int  // its exit code
}

// Next waits for output after the client's position, a change of state, or
// the end, and copies up to len(buf) bytes of output into buf.
func (c *Client) Next(buf []byte) (Event, error) {
	h := c.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		if c.gone || h.closed {
			return Event{}, ErrClosed
		}
		if c.state != h.stateSeq {
			c.state = h.stateSeq
			return Event{State: true, Stalled: h.stalled}, nil
		}
		if c.pos < h.start() { // an observer that fell behind: skip forward
			c.pos = h.start()
		}
		if c.pos < h.head {
			ev := Event{Offset: c.pos}
			ev.N = h.read(buf, c.pos)
			c.pos += uint64(ev.N)
			return ev, nil
		}
		if h.exited {
			return Event{Offset: c.pos, Exit: true, Code: h.code}, nil
		}
		h.cond.Wait()
	}
}

// Ack records that the writer has processed output up to off.
func (c *Client) Ack(off uint64) {
	if c.Observer {
		return
	}
	h := c.hub
	h.mu.Lock()
	if h.writer == c && off > h.acked {
		h.acked = min(off, h.head)
		h.cond.Broadcast()
	}
	h.mu.Unlock()
}

// ErrStalled is returned by Input when the shell's input queue is full: the
// input was dropped.
var ErrStalled = errors.New("the terminal takes no input")

// Input queues p for the shell and returns at once; observers' input is
// dropped. When InputQueue bytes are already waiting, p is dropped too, the
// terminal is reported stalled, and Input returns ErrStalled.
func (c *Client) Input(p []byte) error {
	if c.Observer || len(p) == 0 {
		return nil
	}
	h := c.hub
	h.mu.Lock()
	if h.writer != c || h.closed {
		h.mu.Unlock()
		return nil
	}
	if h.queued+len(p) > InputQueue {
		h.mu.Unlock()
		h.setStalled(true)
		return ErrStalled
	}
	h.inq = append(h.inq, bytes.Clone(p))
	h.queued += len(p)
	h.cond.Broadcast()
	h.mu.Unlock()
	if h.onInput != nil {
		h.onInput()
	}
	return nil
}

// Resize sets the terminal size; observers' resizes are dropped.
func (c *Client) Resize(cols, rows int) error {
	if c.Observer {
		return nil
	}
	h := c.hub
	h.mu.Lock()
	if h.writer != c || (h.cols == cols && h.rows == rows) {
		h.mu.Unlock()
		return nil
	}
	h.cols, h.rows = cols, rows
	h.mu.Unlock()
	if h.rec != nil {
		h.rec.Resize(cols, rows)
	}
	return h.shell.Resize(cols, rows)
}

// closeReason says why Next returned ErrClosed: "replaced" (another window
// took over as writer), "ended" (the shell was ended), "restarted" (ended
// to be replaced by a new one), or "" (the client left).
func (c *Client) closeReason() string {
	h := c.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case c.replaced:
		return "replaced"
	case h.closed:
		return h.why
	}
	return ""
}

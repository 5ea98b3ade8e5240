package terminal

import (
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
	writer   *Client // the connected writer, if any
	lastSeen time.Time
	// OnInput is called on writer input (the lab session's idle timer).
	onInput func()
}

// NewHub starts pumping sh's output. rec may be nil.
func NewHub(sh lab.Shell, cols, rows int, rec *Recorder, onInput func()) *Hub {
	h := &Hub{shell: sh, rec: rec, ring: make([]byte, RingSize), cols: cols, rows: rows,
		lastSeen: time.Now(), onInput: onInput}
	h.cond = sync.NewCond(&h.mu)
	go h.pump()
	return h
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

// Close kills the shell and ends every client.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
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
	c = &Client{hub: h, Observer: observer}
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
	c.Hello = Hello{Protocol: Protocol, Role: role, Cols: h.cols, Rows: h.rows, Offset: c.pos, Reset: reset}
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

// Next waits for output after the client's position and copies up to
// len(buf) bytes of it into buf. It returns the offset of those bytes, their
// count, and exit=true (with the code) once the shell has ended and the
// client has all its output.
func (c *Client) Next(buf []byte) (off uint64, n int, exit bool, code int, err error) {
	h := c.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		if c.gone || h.closed {
			return 0, 0, false, 0, ErrClosed
		}
		if c.pos < h.start() { // an observer that fell behind: skip forward
			c.pos = h.start()
		}
		if c.pos < h.head {
			off = c.pos
			n = h.read(buf, c.pos)
			c.pos += uint64(n)
			return off, n, false, 0, nil
		}
		if h.exited {
			return c.pos, 0, true, h.code, nil
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

// Input writes to the shell; observers' input is dropped.
func (c *Client) Input(p []byte) error {
	if c.Observer || len(p) == 0 {
		return nil
	}
	h := c.hub
	h.mu.Lock()
	isWriter := h.writer == c
	h.mu.Unlock()
	if !isWriter {
		return nil
	}
	if h.onInput != nil {
		h.onInput()
	}
	_, err := h.shell.Write(p)
	return err
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
// took over as writer), "ended" (the shell was ended), or "" (the client left).
func (c *Client) closeReason() string {
	h := c.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case c.replaced:
		return "replaced"
	case h.closed:
		return "ended"
	}
	return ""
}

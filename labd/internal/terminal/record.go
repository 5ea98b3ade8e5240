package terminal

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Recorder writes a terminal's output as asciicast v2: a header line, then
// one JSON array per event: [seconds, "o", text], [seconds, "r", "COLSxROWS"]
// and, at the end, [seconds, "x", "CODE"]. Output that arrives within
// coalesce of the event's start joins that event (fewer, larger events cost
// far less to write, and a player cannot show the difference). Output is cut
// on UTF-8 boundaries: an incomplete character at the end waits for its
// rest, so every event is valid text.
type Recorder struct {
	mu      sync.Mutex
	f       *os.File
	path    string
	w       *bufio.Writer
	start   time.Time
	pending []byte    // output not yet written as an event
	since   time.Time // when the pending output began
	closed  bool
	armed   bool // a flush is due within FlushEvery
	line    []byte
}

const (
	coalesce   = 10 * time.Millisecond
	maxPending = 64 << 10
	// FlushEvery bounds how long recorded output waits in memory: a labd
	// that crashes loses at most this much of a recording.
	FlushEvery = time.Second
)

// Header is an asciicast v2 header.
type Header struct {
	Version   int               `json:"version"`
	Width     int               `json:"width"`
	Height    int               `json:"height"`
	Timestamp int64             `json:"timestamp"`
	Env       map[string]string `json:"env,omitempty"`
	Title     string            `json:"title,omitempty"`
}

// NewRecorder creates the file at path and writes the header.
func NewRecorder(path string, cols, rows int, title string) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	r := &Recorder{f: f, path: path, w: bufio.NewWriterSize(f, 64<<10), start: time.Now()}
	hdr, _ := json.Marshal(Header{Version: 2, Width: cols, Height: rows, Timestamp: r.start.Unix(),
		Env: map[string]string{"TERM": "xterm-256color", "SHELL": "/bin/bash"}, Title: title})
	r.w.Write(hdr)
	r.w.WriteByte('\n')
	// The header reaches the file at once: even a crash leaves a valid recording.
	if err := r.w.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// event writes one event line at time at.
func (r *Recorder) event(at time.Time, kind string, data []byte) {
	if r.closed {
		return
	}
	b := append(r.line[:0], '[')
	b = strconv.AppendFloat(b, at.Sub(r.start).Seconds(), 'f', 6, 64)
	b = append(b, `, "`...)
	b = append(b, kind...)
	b = append(b, `", `...)
	b = appendJSONString(b, data)
	b = append(b, "]\n"...)
	r.w.Write(b)
	r.line = b
}

// Output records output bytes.
func (r *Recorder) Output(p []byte) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) > 0 && (now.Sub(r.since) > coalesce || len(r.pending) >= maxPending) {
		r.flushPending()
	}
	if len(r.pending) == 0 {
		r.since = now
	}
	r.pending = append(r.pending, p...)
	r.arm()
}

// arm schedules a flush within FlushEvery (r.mu held).
func (r *Recorder) arm() {
	if r.armed || r.closed {
		return
	}
	r.armed = true
	time.AfterFunc(FlushEvery, func() {
		r.mu.Lock()
		r.armed = false
		r.mu.Unlock()
		r.Flush()
	})
}

// flushPending writes the pending output as an event, keeping back an
// incomplete last character (r.mu held).
func (r *Recorder) flushPending() {
	cut := completeUTF8(r.pending)
	if cut == 0 {
		return
	}
	r.event(r.since, "o", r.pending[:cut])
	n := copy(r.pending, r.pending[cut:])
	r.pending = r.pending[:n]
}

// completeUTF8 returns the length of the longest prefix of p that does not
// end inside a UTF-8 character (at most 3 bytes are held back).
func completeUTF8(p []byte) int {
	for i := 1; i <= 3 && i <= len(p); i++ {
		c := p[len(p)-i]
		if c < 0x80 {
			return len(p)
		}
		if c >= 0xC0 { // a leading byte: is its character complete?
			if utf8.FullRune(p[len(p)-i:]) {
				return len(p)
			}
			return len(p) - i
		}
	}
	return len(p)
}

// Resize records a terminal size change.
func (r *Recorder) Resize(cols, rows int) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushPending()
	r.event(now, "r", fmt.Appendf(nil, "%dx%d", cols, rows))
	r.arm()
}

// Exit records the exit code and closes the recording.
func (r *Recorder) Exit(code int) {
	now := time.Now()
	r.mu.Lock()
	r.flushPending()
	if len(r.pending) > 0 { // a character that never completed
		r.event(r.since, "o", r.pending)
		r.pending = nil
	}
	r.event(now, "x", strconv.AppendInt(nil, int64(code), 10))
	r.mu.Unlock()
	r.Close()
}

// Flush writes buffered events to the file.
func (r *Recorder) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.flushPending()
	return r.w.Flush()
}

// Close flushes and closes the file.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.flushPending()
	r.closed = true
	err := r.w.Flush()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	return err
}

const hexDigits = "0123456789abcdef"

// plain marks the bytes appendJSONString copies as they are.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\' && c != 0x7f
	}
	return t
}()

// appendJSONString appends s as a JSON string. Printable ASCII is copied
// as it is (the common case, and fast); invalid UTF-8 becomes U+FFFD.
func appendJSONString(b, s []byte) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if plain[s[i]] {
			i++
			for i < len(s) && plain[s[i]] {
				i++
			}
			continue
		}
		c := s[i]
		b = append(b, s[start:i]...)
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
			i++
		case c == '\n':
			b = append(b, '\\', 'n')
			i++
		case c == '\r':
			b = append(b, '\\', 'r')
			i++
		case c == '\t':
			b = append(b, '\\', 't')
			i++
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\\ufffd"...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

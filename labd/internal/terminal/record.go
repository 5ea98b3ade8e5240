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
// and, at the end, [seconds, "x", "CODE"]. Output is split on UTF-8
// boundaries: an incomplete character at the end of a read waits for the
// rest, so every event is valid text.
type Recorder struct {
	mu      sync.Mutex
	f       *os.File
	w       *bufio.Writer
	start   time.Time
	pending []byte // the start of a character cut by a read
	closed  bool
}

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
	r := &Recorder{f: f, w: bufio.NewWriterSize(f, 64<<10), start: time.Now()}
	hdr, _ := json.Marshal(Header{Version: 2, Width: cols, Height: rows, Timestamp: r.start.Unix(),
		Env: map[string]string{"TERM": "xterm-256color", "SHELL": "/bin/bash"}, Title: title})
	r.w.Write(hdr)
	r.w.WriteByte('\n')
	return r, nil
}

func (r *Recorder) event(kind, data string) {
	if r.closed {
		return
	}
	t := time.Since(r.start).Seconds()
	line, _ := json.Marshal([]any{json.Number(strconv.FormatFloat(t, 'f', 6, 64)), kind, data})
	r.w.Write(line)
	r.w.WriteByte('\n')
}

// Output records output bytes.
func (r *Recorder) Output(p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	data := append(r.pending, p...)
	cut := completeUTF8(data)
	r.pending = append([]byte(nil), data[cut:]...)
	if cut > 0 {
		r.event("o", string(data[:cut]))
	}
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
	r.mu.Lock()
	defer r.mu.Unlock()
	r.event("r", fmt.Sprintf("%dx%d", cols, rows))
}

// Exit records the exit code and closes the recording.
func (r *Recorder) Exit(code int) {
	r.mu.Lock()
	if len(r.pending) > 0 {
		r.event("o", string(r.pending))
		r.pending = nil
	}
	r.event("x", strconv.Itoa(code))
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
	return r.w.Flush()
}

// Close flushes and closes the file.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.w.Flush()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	return err
}

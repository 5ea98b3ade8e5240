// Package ttytest has a fake shell for measuring the terminal pipeline
// without a PTY: the Go benchmark and `make bench` use it.
package ttytest

import (
	"io"
	"sync"
)

// Flood is a shell that writes N bytes of text ('x') as fast as it is
// read, at most 4 KiB a read, as a PTY hands them out.
type Flood struct {
	mu   sync.Mutex
	left int
}

// NewFlood returns a shell that writes n bytes, then ends.
func NewFlood(n int) *Flood { return &Flood{left: n} }

func (f *Flood) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), f.left, 4096)
	for i := range n {
		p[i] = 'x'
	}
	f.left -= n
	return n, nil
}

func (f *Flood) Write(p []byte) (int, error) { return len(p), nil }
func (f *Flood) Resize(int, int) error       { return nil }
func (f *Flood) Wait() (int, error)          { return 0, nil }
func (f *Flood) Kill() error                 { return nil }

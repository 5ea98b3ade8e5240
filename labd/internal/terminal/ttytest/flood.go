// Package ttytest has fake shells for measuring and testing the terminal
// pipeline without a PTY (the Go benchmark and `make bench` use Flood), and
// the input of flood tests.
package ttytest

import (
	"io"
	"math/rand/v2"
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

// Stuck is a shell that takes no input: a Write blocks until Kill, as a
// write to a terminal whose shell is stopped or blocked on its output does.
type Stuck struct {
	once   sync.Once
	killed chan struct{}
}

// NewStuck returns a shell whose writes block until it is killed.
func NewStuck() *Stuck { return &Stuck{killed: make(chan struct{})} }

func (s *Stuck) Read(p []byte) (int, error) {
	<-s.killed
	return 0, io.EOF
}

func (s *Stuck) Write(p []byte) (int, error) {
	<-s.killed
	return 0, io.ErrClosedPipe
}

func (s *Stuck) Resize(int, int) error { return nil }
func (s *Stuck) Wait() (int, error)    { return 137, nil }
func (s *Stuck) Kill() error           { s.once.Do(func() { close(s.killed) }); return nil }

// Garbage is what a demanding user pastes into a terminal: n bytes of
// random data, laced with the control characters that stop a terminal or
// a shell (Ctrl-S, Ctrl-Z, Ctrl-C, Ctrl-\) and escape sequences, cut into
// frames of at most size bytes. It has no Enter (CR, LF), no Ctrl-D
// (which would end the shell, not wedge it), no Ctrl-X (bash's Ctrl-X
// Ctrl-E runs an editor) or Ctrl-O, so it seldom runs a command; seldom,
// not never (readline has other ways in). Send it to sandboxed nodes only.
// It is the same for the same seed.
func Garbage(n, size int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	controls := [][]byte{{0x13}, {0x1a}, {0x03}, {0x1c}, []byte("\x1b[6n"), []byte("\x1b]0;x\x07"), []byte("\x1b[?1049h")}
	var frames [][]byte
	for n > 0 {
		f := make([]byte, min(n, size))
		for i := range f {
			switch f[i] = byte(rng.Uint32()); f[i] {
			case '\r', '\n', 0x04, 0x18, 0x0f:
				f[i] = '.'
			}
		}
		for range 4 {
			c := controls[rng.IntN(len(controls))]
			copy(f[rng.IntN(len(f)):], c)
		}
		frames = append(frames, f)
		n -= len(f)
	}
	return frames
}

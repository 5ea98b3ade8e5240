package terminal_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/xsky-academy/academy/labd/internal/terminal"
)

// flood is a shell that writes n bytes of text as fast as it is read.
type flood struct {
	mu   sync.Mutex
	left int
}

func (f *flood) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), f.left, 4096) // a PTY hands out at most 4 KiB a read
	for i := range n {
		p[i] = 'x'
	}
	f.left -= n
	return n, nil
}
func (f *flood) Write(p []byte) (int, error) { return len(p), nil }
func (f *flood) Resize(int, int) error       { return nil }
func (f *flood) Wait() (int, error)          { return 0, nil }
func (f *flood) Kill() error                 { return nil }

// BenchmarkPipeline measures the hub and the websocket (no PTY): bytes from
// a shell to an acking client, with recording on.
func BenchmarkPipeline(b *testing.B) {
	const size = 64 << 20
	b.SetBytes(size)
	dir := b.TempDir()
	for i := 0; i < b.N; i++ {
		rec, _ := terminal.NewRecorder(filepath.Join(dir, strings.Repeat("r", 1)+string(rune('a'+i%26))+".cast"+string(rune('0'+i/26%10))), 80, 24, "")
		h := terminal.NewHub(&flood{left: size}, 80, 24, rec, nil)
		up := terminal.Upgrader()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ws, _ := up.Upgrade(w, r, nil)
			c, _ := h.Attach(false, 0)
			terminal.Serve(ws, c, nil)
		}))
		r, _, err := terminal.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), "x", nil)
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for {
			f, err := r.Read()
			if err != nil {
				b.Fatal(err)
			}
			if f.Type == terminal.TypeOutput {
				got += len(f.Data)
				r.Send(terminal.Ack(f.Offset + uint64(len(f.Data))))
			}
			if f.Type == terminal.TypeExit {
				break
			}
		}
		if got != size {
			b.Fatalf("got %d bytes", got)
		}
		r.Close()
		srv.Close()
		h.Close()
	}
}

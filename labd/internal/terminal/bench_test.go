package terminal_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xsky-academy/academy/labd/internal/terminal"
	"github.com/xsky-academy/academy/labd/internal/terminal/ttytest"
)

// BenchmarkPipeline measures the hub and the websocket (no PTY): bytes from
// a shell to an acking client, with recording on.
func BenchmarkPipeline(b *testing.B) {
	const size = 64 << 20
	b.SetBytes(size)
	dir := b.TempDir()
	for i := 0; i < b.N; i++ {
		rec, _ := terminal.NewRecorder(filepath.Join(dir, strings.Repeat("r", 1)+string(rune('a'+i%26))+".cast"+string(rune('0'+i/26%10))), 80, 24, "")
		h := terminal.NewHub(ttytest.NewFlood(size), 80, 24, rec, nil)
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

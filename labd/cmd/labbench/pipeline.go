package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/xsky-academy/academy/labd/internal/terminal"
	"github.com/xsky-academy/academy/labd/internal/terminal/ttytest"
)

// pipeline measures, three times, a 200 MB stream through the hub (with
// recording) and a websocket to an acking client, in this process: labd's
// part of the path. It reports the median.
func pipeline(tmp string) error {
	var rates []float64
	for range 3 {
		r, err := pipelineOnce(tmp)
		if err != nil {
			return err
		}
		rates = append(rates, r)
	}
	slices.Sort(rates)
	report(figure{"labd pipeline, 200 MB, no PTY (median of 3)", fmt.Sprintf("%.0f MB/s", rates[1]),
		fmt.Sprintf("runs %.0f–%.0f MB/s", rates[0], rates[2]), "", "≥ 200 MB/s"})
	return nil
}

func pipelineOnce(tmp string) (float64, error) {
	const size = 200_000_000
	rec, err := terminal.NewRecorder(filepath.Join(tmp, "pipeline.cast"), 80, 24, "")
	if err != nil {
		return 0, err
	}
	defer os.Remove(filepath.Join(tmp, "pipeline.cast"))
	h := terminal.NewHub(ttytest.NewFlood(size), 80, 24, rec, nil)
	defer h.Close()
	up := terminal.Upgrader()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c, _ := h.Attach(false, 0)
		terminal.Serve(ws, c, nil)
	}))
	defer srv.Close()
	start := time.Now()
	r, _, err := terminal.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), "x", nil)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	got, acked := 0, uint64(0)
	for {
		f, err := r.Read()
		if err != nil {
			return 0, err
		}
		if f.Type == terminal.TypeOutput {
			got += len(f.Data)
			if next := f.Offset + uint64(len(f.Data)); next-acked >= 64<<10 {
				r.Send(terminal.Ack(next))
				acked = next
			}
		}
		if f.Type == terminal.TypeExit {
			break
		}
	}
	took := time.Since(start)
	if got != size {
		return 0, fmt.Errorf("pipeline: %d bytes, want %d", got, size)
	}
	return size / 1e6 / took.Seconds(), nil
}

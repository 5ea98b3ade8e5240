package terminal_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/local"
	"github.com/xsky-academy/academy/labd/internal/terminal"
)

type fixture struct {
	url     string
	mgr     *terminal.Manager
	rt      *local.Runtime
	recs    string
	touched chan string
}

// newFixture serves terminals of session s1 (nodes n1, n2) on the local
// runtime: /term?node=n1&observer=1&from=N.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	rt, err := local.New(filepath.Join(dir, "nodes"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Create(context.Background(), lab.EnvSpec{Session: "s1", Nodes: []lab.Node{{Name: "n1"}, {Name: "n2"}}}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{rt: rt, recs: filepath.Join(dir, "recordings"), touched: make(chan string, 1000)}
	f.mgr = terminal.NewManager(rt, f.recs, time.Minute, func(s string) {
		select {
		case f.touched <- s:
		default:
		}
	}, nil)
	up := websocket.Upgrader{Subprotocols: []string{terminal.Protocol}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		observer := r.URL.Query().Get("observer") == "1"
		from, _ := strconv.ParseUint(r.URL.Query().Get("from"), 10, 64)
		h, err := f.mgr.Hub(r.Context(), "s1", r.URL.Query().Get("node"), !observer, 80, 24)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c, _ := h.Attach(observer, from)
		terminal.Serve(ws, c, nil)
	}))
	t.Cleanup(func() {
		srv.Close()
		f.mgr.Close()
		rt.Destroy(context.Background(), "s1")
	})
	f.url = "ws" + strings.TrimPrefix(srv.URL, "http") + "/term"
	return f
}

func (f *fixture) dial(t *testing.T, query string) *terminal.Remote {
	t.Helper()
	r, _, err := terminal.Dial(context.Background(), f.url+"?"+query, "x", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// reader follows one connection's output stream, acking as it goes.
type reader struct {
	t      *testing.T
	r      *terminal.Remote
	stream bytes.Buffer // every output byte from offset base on
	base   uint64
	next   uint64 // offset of the next expected byte
	exit   *int
	errf   *terminal.ServerFrame
	noAck  bool
}

func newReader(t *testing.T, r *terminal.Remote) *reader {
	return &reader{t: t, r: r, base: r.Hello.Offset, next: r.Hello.Offset}
}

// until reads frames until cond holds for the stream, or fails after 20 s.
func (rd *reader) until(what string, cond func(s string) bool) {
	rd.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond(rd.stream.String()) {
		if time.Now().After(deadline) {
			rd.t.Fatalf("no %s; stream ends with %q", what, tail(rd.stream.String()))
		}
		if !rd.step(deadline) {
			if cond(rd.stream.String()) {
				return
			}
			rd.t.Fatalf("connection ended before %s; stream ends with %q", what, tail(rd.stream.String()))
		}
	}
}

// step reads one frame; false when the connection ended.
func (rd *reader) step(deadline time.Time) bool {
	rd.t.Helper()
	f, err := rd.r.Read()
	if err != nil {
		return false
	}
	switch f.Type {
	case terminal.TypeOutput:
		if f.Offset != rd.next {
			rd.t.Fatalf("output at offset %d, expected %d: a gap or a duplicate", f.Offset, rd.next)
		}
		rd.stream.Write(f.Data)
		rd.next += uint64(len(f.Data))
		if !rd.noAck {
			rd.r.Send(terminal.Ack(rd.next))
		}
	case terminal.TypeExit:
		code := f.Code
		rd.exit = &code
	case terminal.TypeError:
		rd.errf = &f
	}
	return true
}

func tail(s string) string {
	if len(s) > 200 {
		return s[len(s)-200:]
	}
	return s
}

func (rd *reader) typeLine(line string) {
	rd.t.Helper()
	if err := rd.r.Send(terminal.Input([]byte(line + "\r"))); err != nil {
		rd.t.Fatal(err)
	}
}

func TestEchoResizeExit(t *testing.T) {
	f := newFixture(t)
	rd := newReader(t, f.dial(t, "node=n1"))
	if rd.r.Hello.Role != "writer" || rd.r.Hello.Cols != 80 || rd.r.Hello.Rows != 24 || rd.r.Hello.Offset != 0 {
		t.Errorf("hello = %+v", rd.r.Hello)
	}
	rd.typeLine(`echo hel""lo`)
	rd.until("hello", func(s string) bool { return strings.Contains(s, "hello\r\n") })
	select {
	case s := <-f.touched:
		if s != "s1" {
			t.Errorf("touched %q", s)
		}
	default:
		t.Error("input did not touch the session")
	}
	rd.r.Send(terminal.Resize(100, 30))
	rd.typeLine(`stty size; echo do""ne`)
	rd.until("stty size", func(s string) bool { return strings.Contains(s, "30 100\r\n") })
	rd.typeLine("exit 3")
	rd.until("exit", func(string) bool { return rd.exit != nil })
	if *rd.exit != 3 {
		t.Errorf("exit code %d, want 3", *rd.exit)
	}
}

// TestResumeWithoutLoss cuts the connection in the middle of seq 1 200000,
// reconnects from the last offset it processed, and requires the stream it
// put together to hold every number once, in order.
func TestResumeWithoutLoss(t *testing.T) {
	f := newFixture(t)
	first := newReader(t, f.dial(t, "node=n1"))
	first.typeLine(`seq 1 200000; echo fini""shed`)
	first.until("some numbers", func(s string) bool { return strings.Contains(s, "\n5000\r\n") })
	first.r.Close() // the network drops
	time.Sleep(100 * time.Millisecond)

	second := newReader(t, f.dial(t, fmt.Sprintf("node=n1&from=%d", first.next)))
	if second.r.Hello.Reset || second.r.Hello.Offset != first.next {
		t.Fatalf("resume hello = %+v, want offset %d", second.r.Hello, first.next)
	}
	second.until("the end", func(s string) bool { return strings.Contains(s, "finished\r\n") })
	stream := first.stream.String() + second.stream.String()
	var nums []int
	sc := bufio.NewScanner(strings.NewReader(stream))
	for sc.Scan() {
		// A line is what follows its last carriage return (bash may put an
		// escape sequence and \r before the first number).
		line := strings.TrimSuffix(sc.Text(), "\r")
		line = line[strings.LastIndex(line, "\r")+1:]
		if n, err := strconv.Atoi(line); err == nil {
			nums = append(nums, n)
		}
	}
	if len(nums) != 200000 {
		for i, n := range nums {
			if n != i+1 {
				t.Fatalf("%d numbers, want 200000; number %d is %d; stream near it: %q", len(nums), i+1, n,
					stream[max(0, strings.Index(stream, "\n"+strconv.Itoa(n)+"\r")-40):][:80])
			}
		}
		t.Fatalf("%d numbers, want 200000", len(nums))
	}
	for i, n := range nums {
		if n != i+1 {
			t.Fatalf("number %d is %d", i+1, n)
		}
	}
	t.Logf("cut after %d bytes, resumed; %d bytes in all", first.next, second.next)
}

// TestCtrlCStopsYes: after Ctrl-C, output ends with the prompt, and what
// still arrives is bounded by the flow-control window.
func TestCtrlCStopsYes(t *testing.T) {
	f := newFixture(t)
	rd := newReader(t, f.dial(t, "node=n1"))
	rd.typeLine("yes")
	rd.until("yes output", func(s string) bool { return strings.Count(s, "y\r\n") > 2000 })
	before := rd.next
	rd.r.Send(terminal.Input([]byte{3}))
	rd.typeLine(`echo sto""pped`)
	rd.until("the prompt after Ctrl-C", func(s string) bool { return strings.Contains(s, "stopped\r\n") })
	after := rd.next - before
	if after > terminal.Window+256<<10 {
		t.Errorf("%d bytes arrived after Ctrl-C; the window is %d", after, terminal.Window)
	}
	t.Logf("%d bytes arrived after Ctrl-C", after)
}

// TestFlowControlPausesTheShell: a writer that does not ack holds the shell
// at the window; nothing is lost and buffers stay bounded.
func TestFlowControlPausesTheShell(t *testing.T) {
	f := newFixture(t)
	rd := newReader(t, f.dial(t, "node=n1"))
	rd.noAck = true
	rd.typeLine(`yes | head -c 3000000; echo dr""ained`)
	time.Sleep(500 * time.Millisecond)
	deadline := time.Now().Add(2 * time.Second)
	for rd.next < terminal.Window && time.Now().Before(deadline) {
		rd.step(deadline)
	}
	// Read whatever is in flight: it must stop at the window.
	done := make(chan struct{})
	go func() {
		for rd.step(time.Now().Add(time.Second)) {
		}
		close(done)
	}()
	time.Sleep(500 * time.Millisecond)
	if rd.next > terminal.Window+64<<10 {
		t.Fatalf("%d bytes sent without acks; the window is %d", rd.next, terminal.Window)
	}
	rd.r.Close()
	<-done
	// A new writer picks up exactly there and drains the rest.
	rd2 := newReader(t, f.dial(t, fmt.Sprintf("node=n1&from=%d", rd.next)))
	rd2.until("drained", func(s string) bool { return strings.Contains(s, "drained\r\n") })
	if got := strings.Count(rd.stream.String()+rd2.stream.String(), "y"); got < 1500000 {
		t.Errorf("%d y's, want 1500000", got)
	}
}

func TestObserver(t *testing.T) {
	f := newFixture(t)
	w := newReader(t, f.dial(t, "node=n2"))
	o := newReader(t, f.dial(t, "node=n2&observer=1"))
	if o.r.Hello.Role != "observer" {
		t.Errorf("observer hello %+v", o.r.Hello)
	}
	o.r.Send(terminal.Input([]byte("touch observer-was-here\r")))
	o.r.Send(terminal.Resize(20, 5))
	w.typeLine(`ls; stty size; echo en""d`)
	w.until("end", func(s string) bool { return strings.Contains(s, "end\r\n") })
	o.until("end", func(s string) bool { return strings.Contains(s, "end\r\n") })
	if !strings.Contains(w.stream.String(), "24 80") {
		t.Errorf("an observer's resize took effect: %q", tail(w.stream.String()))
	}
	if strings.Contains(w.stream.String(), "observer-was-here") {
		t.Error("an observer's input reached the shell")
	}
	wn := w.stream.Bytes()
	on := o.stream.Bytes()
	if o.base != w.base || !bytes.HasPrefix(wn, on[:min(len(on), len(wn))]) && !bytes.HasPrefix(on, wn) {
		t.Errorf("observer saw other bytes than the writer")
	}
}

func TestRecordingIsAsciicast(t *testing.T) {
	f := newFixture(t)
	rd := newReader(t, f.dial(t, "node=n1"))
	rd.r.Send(terminal.Resize(90, 20))
	// 3-byte characters in big writes: reads will cut some of them.
	rd.typeLine(`printf '中文%.0s' $(seq 1 30000); echo; exit 0`)
	rd.until("exit", func(string) bool { return rd.exit != nil })
	recs, err := f.mgr.Recordings("s1")
	if err != nil || len(recs) != 1 || recs[0].Node != "n1" {
		t.Fatalf("recordings = %+v %v", recs, err)
	}
	path, ok := f.mgr.RecordingPath("s1", recs[0].Name)
	if !ok {
		t.Fatal("no recording file")
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var hdr terminal.Header
	if err := json.Unmarshal([]byte(lines[0]), &hdr); err != nil || hdr.Version != 2 || hdr.Width != 80 || hdr.Height != 24 {
		t.Fatalf("header %q: %v", lines[0], err)
	}
	var out strings.Builder
	var kinds []string
	last := 0.0
	for _, l := range lines[1:] {
		var ev []any
		if err := json.Unmarshal([]byte(l), &ev); err != nil || len(ev) != 3 {
			t.Fatalf("event %q: %v", l, err)
		}
		ts, kind, text := ev[0].(float64), ev[1].(string), ev[2].(string)
		if ts < last {
			t.Errorf("time goes back at %q", l)
		}
		last = ts
		kinds = append(kinds, kind)
		if kind == "o" {
			if strings.ContainsRune(text, '\uFFFD') {
				t.Fatalf("an event holds a broken character: %q", tail(text))
			}
			out.WriteString(text)
		}
		if kind == "r" && text != "90x20" {
			t.Errorf("resize event %q", text)
		}
	}
	if kinds[len(kinds)-1] != "x" || !strings.Contains(strings.Join(kinds, ""), "r") {
		t.Errorf("event kinds %v", kinds[max(0, len(kinds)-5):])
	}
	if out.String() != rd.stream.String() {
		t.Errorf("the recording's output (%d bytes) differs from what the client received (%d bytes)", out.Len(), rd.stream.Len())
	}
}

func TestBadFrames(t *testing.T) {
	f := newFixture(t)
	healthy := newReader(t, f.dial(t, "node=n2"))
	for _, tc := range []struct {
		name  string
		kind  int
		data  []byte
		fatal bool
	}{
		{"unknown type", websocket.BinaryMessage, []byte("Zzz"), false},
		{"resize 0x0", websocket.BinaryMessage, terminal.Resize(0, 0), false},
		{"resize 65535x65535", websocket.BinaryMessage, terminal.Resize(65535, 65535), false},
		{"empty", websocket.BinaryMessage, []byte{}, true},
		{"short ack", websocket.BinaryMessage, []byte{'a', 1, 2}, true},
		{"long resize", websocket.BinaryMessage, []byte{'r', 0, 80, 0, 24, 9}, true},
		{"text frame", websocket.TextMessage, []byte("ls\r"), true},
		{"oversize input", websocket.BinaryMessage, append([]byte{'i'}, bytes.Repeat([]byte("a"), terminal.MaxClientFrame+10)...), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd := newReader(t, f.dial(t, "node=n1"))
			rd.r.SendRaw(tc.kind, tc.data)
			if tc.fatal {
				for rd.step(time.Now().Add(5 * time.Second)) {
				}
				if rd.errf == nil || rd.errf.Error != "bad_frame" {
					t.Errorf("no e frame before the close (%+v)", rd.errf)
				}
				return
			}
			rd.typeLine(`echo sti""ll-here`)
			rd.until("a working terminal", func(s string) bool { return strings.Contains(s, "still-here\r\n") })
		})
	}
	healthy.typeLine(`echo unaf""fected`)
	healthy.until("the other terminal", func(s string) bool { return strings.Contains(s, "unaffected\r\n") })
}

func TestPing(t *testing.T) {
	f := newFixture(t)
	r := f.dial(t, "node=n1")
	r.Send(terminal.Ping([8]byte{1, 2, 3, 4, 5, 6, 7, 8}))
	for {
		fr, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		if fr.Type == terminal.TypePong {
			if !bytes.Equal(fr.Data, []byte{1, 2, 3, 4, 5, 6, 7, 8}) {
				t.Errorf("pong %v", fr.Data)
			}
			return
		}
	}
}

func FuzzDecodeClient(f *testing.F) {
	for _, seed := range [][]byte{terminal.Input([]byte("ls\r")), terminal.Resize(80, 24), terminal.Ack(42),
		terminal.Ping([8]byte{}), {'r', 0}, {}, {'x'}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := terminal.DecodeClient(b)
		if err != nil {
			return
		}
		switch fr.Type {
		case terminal.TypeResize:
			if fr.Cols < 1 || fr.Rows < 1 || fr.Cols > terminal.MaxCols || fr.Rows > terminal.MaxRows {
				t.Fatalf("accepted size %dx%d", fr.Cols, fr.Rows)
			}
			if !bytes.Equal(terminal.Resize(fr.Cols, fr.Rows), b) {
				t.Fatal("resize does not round-trip")
			}
		case terminal.TypeAck:
			if !bytes.Equal(terminal.Ack(fr.Ack), b) {
				t.Fatal("ack does not round-trip")
			}
		case terminal.TypeInput:
			if !bytes.Equal(terminal.Input(fr.Input), b) {
				t.Fatal("input does not round-trip")
			}
		case terminal.TypePing:
		default:
			t.Fatalf("accepted type %q", fr.Type)
		}
	})
}

func FuzzRecorderJSON(f *testing.F) {
	f.Add([]byte("plain ascii\r\n"))
	f.Add([]byte("中文\x00\x1b[1m\"\\\x7f\xff\xe4\xb8"))
	dir := f.TempDir()
	n := 0
	f.Fuzz(func(t *testing.T, data []byte) {
		n++
		path := filepath.Join(dir, fmt.Sprintf("f%d.cast", n))
		rec, err := terminal.NewRecorder(path, 80, 24, "")
		if err != nil {
			t.Fatal(err)
		}
		rec.Output(data)
		rec.Exit(0)
		out, _ := os.ReadFile(path)
		os.Remove(path)
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var got strings.Builder
		for _, l := range lines[1:] {
			var ev []any
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatalf("event %q is not JSON: %v", l, err)
			}
			if ev[1] == "o" {
				got.WriteString(ev[2].(string))
			}
		}
		if utf8.Valid(data) && got.String() != string(data) {
			t.Fatalf("recorded %q, want %q", got.String(), data)
		}
	})
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/terminal"
)

func (l *labd) ticket(t *testing.T, token, id, node string) (string, string) {
	t.Helper()
	var tk struct{ Ticket, Role string }
	if code := l.call(t, "POST", "/api/sessions/"+id+"/nodes/"+node+"/ticket", token, nil, &tk); code != 201 {
		t.Fatalf("ticket: %d", code)
	}
	return tk.Ticket, tk.Role
}

func (l *labd) wsURL(id, node string, query string) string {
	return "ws" + strings.TrimPrefix(l.url, "http") + "/api/sessions/" + id + "/nodes/" + node + "/terminal?" + query
}

// stream follows a terminal connection's output, acking, and checks that
// offsets follow on without gap or duplicate.
type stream struct {
	t    *testing.T
	r    *terminal.Remote
	out  strings.Builder
	next uint64
	exit *int
}

func openStream(t *testing.T, l *labd, token, id, node, query string) *stream {
	t.Helper()
	tk, _ := l.ticket(t, token, id, node)
	r, _, err := terminal.Dial(context.Background(), l.wsURL(id, node, query), tk, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &stream{t: t, r: r, next: r.Hello.Offset}
}

func (s *stream) until(what string, cond func(string) bool) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	// A read that waits past the deadline fails, not hangs.
	stop := time.AfterFunc(time.Until(deadline)+time.Second, func() { s.r.Close() })
	defer stop.Stop()
	for !cond(s.out.String()) {
		if time.Now().After(deadline) {
			s.t.Fatalf("no %s; output ends %q", what, lastBytes(s.out.String()))
		}
		f, err := s.r.Read()
		if err != nil {
			s.t.Fatalf("connection ended before %s: %v; output ends %q", what, err, lastBytes(s.out.String()))
		}
		switch f.Type {
		case terminal.TypeOutput:
			if f.Offset != s.next {
				s.t.Fatalf("output at %d, expected %d", f.Offset, s.next)
			}
			s.out.Write(f.Data)
			s.next += uint64(len(f.Data))
			s.r.Send(terminal.Ack(s.next))
		case terminal.TypeExit:
			c := f.Code
			s.exit = &c
		}
	}
}

func (s *stream) line(cmd string) { s.r.Send(terminal.Input([]byte(cmd + "\r"))) }

func lastBytes(s string) string { return s[max(0, len(s)-300):] }

// TestTerminalsOnDocker drives a real shell in a lab node over tty.v1.
func TestTerminalsOnDocker(t *testing.T) {
	needDocker(t)
	l := startLabd(t, t.TempDir(), instanceName(t), "../labs")
	alice := l.token(t, "alice", auth.Trainee)
	s := l.readySession(t, alice, "linux-basics")

	w := openStream(t, l, alice, s.ID, "node1", "cols=100&rows=30")
	defer func() { w.r.Close() }()
	if w.r.Hello.Role != "writer" {
		t.Errorf("hello %+v", w.r.Hello)
	}
	w.line(`stty size; echo hel""lo`)
	w.until("echo", func(o string) bool { return strings.Contains(o, "hello\r\n") })
	if !strings.Contains(w.out.String(), "30 100\r\n") {
		t.Errorf("initial size not applied: %q", lastBytes(w.out.String()))
	}
	w.r.Send(terminal.Resize(120, 40))
	w.line(`stty size; echo resi""zed`)
	w.until("resize", func(o string) bool { return strings.Contains(o, "resized\r\n") })
	if !strings.Contains(w.out.String(), "40 120\r\n") {
		t.Errorf("resize not applied: %q", lastBytes(w.out.String()))
	}

	t.Run("observer", func(t *testing.T) {
		admin := l.token(t, "root", auth.Admin)
		o := openStream(t, l, admin, s.ID, "node1", "")
		defer o.r.Close()
		if o.r.Hello.Role != "observer" || o.r.Hello.Offset != 0 {
			t.Fatalf("observer hello %+v", o.r.Hello)
		}
		o.r.Send(terminal.Input([]byte("touch /root/observer-typed\r")))
		w.line(`ls /root; echo obs""erved`)
		w.until("ls", func(o string) bool { return strings.Contains(o, "observed\r\n") })
		o.until("ls", func(out string) bool { return strings.Contains(out, "observed\r\n") })
		if !strings.HasPrefix(w.out.String(), o.out.String()) && !strings.HasPrefix(o.out.String(), w.out.String()) {
			t.Error("the observer received other bytes than the writer")
		}
		if strings.Contains(w.out.String(), "observer-typed") {
			t.Error("the observer's input reached the shell")
		}
	})

	t.Run("cut and resume during seq", func(t *testing.T) {
		w.line(`seq 1 200000; echo fini""shed`)
		w.until("numbers", func(o string) bool { return strings.Contains(o, "\n100000\r\n") })
		w.r.Close() // the network drops in the middle
		before := w.out.String()
		w2 := openStream(t, l, alice, s.ID, "node1", "from="+strconv.FormatUint(w.next, 10))
		if w2.r.Hello.Reset || w2.r.Hello.Offset != w.next {
			t.Fatalf("resume hello %+v, want offset %d", w2.r.Hello, w.next)
		}
		w2.until("finished", func(o string) bool { return strings.Contains(o, "finished\r\n") })
		all := before + w2.out.String()
		start := strings.LastIndex(all, "fini\"\"shed\r\n")
		var nums []int
		sc := bufio.NewScanner(strings.NewReader(all[start:]))
		for sc.Scan() {
			line := strings.TrimSuffix(sc.Text(), "\r")
			line = line[strings.LastIndex(line, "\r")+1:]
			if n, err := strconv.Atoi(line); err == nil {
				nums = append(nums, n)
			}
		}
		if len(nums) != 200000 || nums[0] != 1 || nums[199999] != 200000 {
			t.Fatalf("%d numbers after the cut and resume, want 1..200000", len(nums))
		}
		for i, n := range nums {
			if n != i+1 {
				t.Fatalf("number %d is %d", i+1, n)
			}
		}
		w2.t = w.t // it outlives this subtest
		w = w2
	})

	t.Run("ctrl-c stops yes", func(t *testing.T) {
		w.line("yes")
		w.until("yes", func(o string) bool { return strings.Count(o[max(0, len(o)-20000):], "y\r\n") > 1000 })
		at := w.next
		w.r.Send(terminal.Input([]byte{3}))
		w.line(`echo sto""pped`)
		w.until("the prompt", func(o string) bool { return strings.Contains(o, "stopped\r\n") })
		t.Logf("%d bytes after Ctrl-C", w.next-at)
		if w.next-at > terminal.Window+512<<10 {
			t.Errorf("%d bytes arrived after Ctrl-C", w.next-at)
		}
	})

	t.Run("recording", func(t *testing.T) {
		var recs []terminal.Recording
		l.call(t, "GET", "/api/sessions/"+s.ID+"/recordings", alice, nil, &recs)
		if len(recs) == 0 || recs[0].Node != "node1" {
			t.Fatalf("recordings %+v", recs)
		}
		req, _ := http.NewRequest("GET", l.url+"/api/sessions/"+s.ID+"/recordings/"+recs[0].Name+".cast", nil)
		req.Header.Set("Authorization", "Bearer "+alice)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		var hdr terminal.Header
		if err := json.Unmarshal([]byte(lines[0]), &hdr); err != nil || hdr.Version != 2 || hdr.Width != 100 {
			t.Fatalf("header %q %v", lines[0], err)
		}
		var out strings.Builder
		for _, line := range lines[1:] {
			var ev []any
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("event %q: %v", line, err)
			}
			if ev[1] == "o" {
				out.WriteString(ev[2].(string))
			}
		}
		if !strings.Contains(out.String(), "hello\r\n") || !strings.Contains(out.String(), "stopped\r\n") {
			t.Error("the recording lacks the session's output")
		}
	})

	t.Run("refused", func(t *testing.T) {
		bob := l.token(t, "bob", auth.Trainee)
		if code := l.call(t, "POST", "/api/sessions/"+s.ID+"/nodes/node1/ticket", bob, nil, nil); code != 404 {
			t.Errorf("someone else's session: %d, want 404", code)
		}
		dial := func(ticket, origin, id string) (int, error) {
			h := http.Header{}
			if origin != "" {
				h.Set("Origin", origin)
			}
			_, resp, err := terminal.Dial(context.Background(), l.wsURL(id, "node1", ""), ticket, h)
			if resp == nil {
				return 0, err
			}
			return resp.StatusCode, err
		}
		tk, _ := l.ticket(t, alice, s.ID, "node1")
		if code, _ := dial(tk, "http://evil.example", s.ID); code != 403 {
			t.Errorf("wrong origin: %d, want 403", code)
		}
		if code, _ := dial("", "", s.ID); code != 401 {
			t.Errorf("no ticket: %d, want 401", code)
		}
		tk, _ = l.ticket(t, alice, s.ID, "node1")
		if code, err := dial(tk, strings.Replace(l.url, "127.0.0.1", "127.0.0.1", 1), s.ID); err != nil {
			t.Errorf("same origin refused: %d %v", code, err)
		}
		if code, _ := dial(tk, "", s.ID); code != 401 {
			t.Errorf("reused ticket: %d, want 401", code)
		}
		other := l.startSession(t, bob, "linux-basics")
		tk, _ = l.ticket(t, alice, s.ID, "node1")
		if code, _ := dial(tk, "", other.ID); code != 403 {
			t.Errorf("a ticket for another session: %d, want 403", code)
		}
	})

	t.Run("ending the session ends the shell", func(t *testing.T) {
		l.call(t, "DELETE", "/api/sessions/"+s.ID, alice, nil, nil)
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := w.r.Read(); err != nil {
				return
			}
		}
		t.Error("the terminal stayed open after its session ended")
	})
	_ = fmt.Sprint
}

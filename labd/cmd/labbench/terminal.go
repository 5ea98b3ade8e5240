package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/creack/pty"

	"github.com/xsky-academy/academy/labd/internal/terminal"
)

// term is one terminal connection of the bench: it acks everything and lets
// a caller wait for a byte to come back.
type term struct {
	r       *terminal.Remote
	mu      sync.Mutex
	cond    *sync.Cond
	seen    int64 // output bytes so far
	acked   uint64
	ackedAt time.Time
	keys    [256]int64
	lastY   time.Time // when output last held a line of yes
	done    bool
}

func (l *labd) openTerm(token, id, node string) (*term, error) {
	var tk struct{ Ticket string }
	if _, err := l.call("POST", "/api/sessions/"+id+"/nodes/"+node+"/ticket", token, nil, &tk); err != nil {
		return nil, err
	}
	url := "ws" + strings.TrimPrefix(l.url, "http") + "/api/sessions/" + id + "/nodes/" + node + "/terminal"
	r, _, err := terminal.Dial(context.Background(), url, tk.Ticket, nil)
	if err != nil {
		return nil, err
	}
	t := &term{r: r}
	t.cond = sync.NewCond(&t.mu)
	go t.pump()
	return t, nil
}

func (t *term) pump() {
	for {
		f, err := t.r.Read()
		t.mu.Lock()
		if err != nil {
			t.done = true
			t.cond.Broadcast()
			t.mu.Unlock()
			return
		}
		if f.Type == terminal.TypeOutput {
			t.seen += int64(len(f.Data))
			for _, b := range f.Data {
				t.keys[b]++
			}
			if bytes.Contains(f.Data, []byte("y\r\n")) {
				t.lastY = time.Now()
			}
			next := f.Offset + uint64(len(f.Data))
			t.cond.Broadcast()
			t.mu.Unlock()
			// Ack every 64 KiB, or 100 ms after the last ack: few acks (none
			// per keystroke), and the window never stalls.
			if next-t.acked >= 64<<10 || time.Since(t.ackedAt) > 100*time.Millisecond {
				t.r.Send(terminal.Ack(next))
				t.acked, t.ackedAt = next, time.Now()
			}
			continue
		}
		t.mu.Unlock()
	}
}

// waitFor waits until key has been seen more than mark times.
func (t *term) waitFor(key byte, mark int64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for t.keys[key] <= mark {
		if t.done || time.Now().After(deadline) {
			return fmt.Errorf("no echo")
		}
		t.cond.Wait()
	}
	return nil
}

func (t *term) count() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seen
}

// echo types one key and measures until it is echoed.
func (t *term) echo(key byte) (time.Duration, error) {
	t.mu.Lock()
	mark := t.keys[key]
	t.mu.Unlock()
	start := time.Now()
	if err := t.r.Send(terminal.Input([]byte{key})); err != nil {
		return 0, err
	}
	if err := t.waitFor(key, mark); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// echoes measures n keystrokes, clearing the line now and then.
func (t *term) echoes(n int) ([]time.Duration, error) {
	var ds []time.Duration
	for i := range n {
		d, err := t.echo("abcdefghij"[i%10])
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
		if i%50 == 49 {
			t.r.Send(terminal.Input([]byte{21})) // Ctrl-U
			time.Sleep(2 * time.Millisecond)
		}
	}
	return ds, nil
}

// directEcho is the baseline: the same shell in a PTY of the bench's own.
func directEcho(shell []string, n int) ([]time.Duration, error) {
	c := exec.Command(shell[0], shell[1:]...)
	c.Env = append(os.Environ(), "PS1=$ ")
	f, err := pty.StartWithSize(c, &pty.Winsize{Cols: 80, Rows: 24})
	if err != nil {
		return nil, err
	}
	defer func() { c.Process.Kill(); f.Close(); c.Wait() }()
	got := make(chan byte, 1<<16)
	go func() {
		buf := make([]byte, 4096)
		for {
			m, err := f.Read(buf)
			for _, b := range buf[:m] {
				got <- b
			}
			if err != nil {
				close(got)
				return
			}
		}
	}()
	time.Sleep(300 * time.Millisecond) // the prompt
	for len(got) > 0 {
		<-got
	}
	var ds []time.Duration
	for i := range n {
		key := "abcdefghij"[i%10]
		start := time.Now()
		f.Write([]byte{key})
		for b := range got {
			if b == key {
				break
			}
		}
		ds = append(ds, time.Since(start))
		if i%50 == 49 {
			f.Write([]byte{21})
			time.Sleep(2 * time.Millisecond)
			for len(got) > 0 {
				<-got
			}
		}
	}
	return ds, nil
}

func bashShell() []string {
	if p, err := exec.LookPath("bash"); err == nil {
		return []string{p, "--noprofile", "--norc", "-i"}
	}
	return []string{"/bin/sh", "-i"}
}

// cpuSeconds is a process's user+system CPU time.
func cpuSeconds(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	var ut, st float64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return (ut + st) / 100
}

func terminals(bin, tmp, instance string) error {
	if err := pipeline(tmp); err != nil {
		return err
	}
	fmt.Println("terminals (labd --runtime local: shells in PTYs):")
	l, err := startLabd(bin, filepath.Join(tmp, "data-term"), instance+"t", "--runtime", "local",
		"--max-per-user", "1000", "--max-sessions", "400")
	if err != nil {
		return err
	}
	defer l.stop()
	newTerm := func() (*term, error) {
		tok := l.user()
		s, _, err := l.start(tok, "linux-basics")
		if err != nil {
			return nil, err
		}
		t, err := l.openTerm(tok, s.ID, "node1")
		if err != nil {
			return nil, err
		}
		time.Sleep(300 * time.Millisecond) // the prompt
		return t, nil
	}

	// Keystroke echo, labd against the PTY read directly.
	base, err := directEcho(bashShell(), 2000)
	if err != nil {
		return err
	}
	t, err := newTerm()
	if err != nil {
		return err
	}
	via, err := t.echoes(2000)
	if err != nil {
		return err
	}
	b50, b99, v50, v99 := percentile(base, .5), percentile(base, .99), percentile(via, .5), percentile(via, .99)
	report(figure{"keystroke echo via labd, local PTY: p50 / p99", fmt.Sprintf("%s / %s", us(v50), us(v99)),
		fmt.Sprintf("PTY direct %s / %s", us(b50), us(b99)), fmt.Sprintf("+%s / +%s", us(v50-b50), us(v99-b99)),
		"added ≤ 0.5 ms / ≤ 2 ms"})

	// Throughput of a 200 MB stream to this acking client, and labd's CPU for it.
	const size = 200_000_000
	mark := t.count()
	cpu0 := cpuSeconds(l.cmd.Process.Pid)
	start := time.Now()
	t.r.Send(terminal.Input([]byte("head -c 200000000 /dev/zero | tr '\\0' x; echo\r")))
	t.mu.Lock()
	for t.seen-mark < size && !t.done {
		t.cond.Wait()
	}
	t.mu.Unlock()
	took := time.Since(start)
	cpu := cpuSeconds(l.cmd.Process.Pid) - cpu0
	mb := float64(size) / 1e6
	direct, err := directThroughput(size)
	if err != nil {
		return err
	}
	report(figure{"output throughput through a PTY, 200 MB, acking client", fmt.Sprintf("%.0f MB/s", mb/took.Seconds()),
		fmt.Sprintf("PTY direct %.0f MB/s", mb/direct.Seconds()), fmt.Sprintf("%.2f", direct.Seconds()/took.Seconds()),
		"≥ 200 MB/s"})
	report(figure{"labd CPU per MB of output", fmt.Sprintf("%.2f ms", cpu*1000/mb), "", "", "report"})
	time.Sleep(200 * time.Millisecond)

	// 100 observers on a busy terminal.
	busy, err := newTerm()
	if err != nil {
		return err
	}
	busy.r.Send(terminal.Input([]byte("while :; do echo $RANDOM$RANDOM$RANDOM; sleep 0.002; done\r")))
	time.Sleep(200 * time.Millisecond)
	alone, err := busy.echoes(500)
	if err != nil {
		return err
	}
	var obs []*term
	for range 100 {
		o, err := l.observe(busy)
		if err != nil {
			return err
		}
		obs = append(obs, o)
	}
	time.Sleep(300 * time.Millisecond)
	watched, err := busy.echoes(500)
	if err != nil {
		return err
	}
	a99, w99 := percentile(alone, .99), percentile(watched, .99)
	report(figure{"writer echo p99 on a busy terminal, 100 observers", us(w99), "no observers " + us(a99),
		fmt.Sprintf("+%s", us(w99-a99)), "added ≤ 1 ms"})
	for _, o := range obs {
		o.r.Close()
	}
	busy.r.Send(terminal.Input([]byte{3}))

	// 200 terminals at once, each echoing.
	var terms []*term
	for range 200 {
		t, err := newTerm()
		if err != nil {
			return err
		}
		terms = append(terms, t)
	}
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	var failed error
	for i, t := range terms {
		wg.Go(func() {
			// A fast typist: a key every 100 ms, the terminals out of step.
			time.Sleep(time.Duration(i) * time.Millisecond / 2)
			var ds []time.Duration
			var err error
			for k := range 50 {
				var d time.Duration
				if d, err = t.echo("abcdefghij"[k%10]); err != nil {
					break
				}
				ds = append(ds, d)
				time.Sleep(100*time.Millisecond - d)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = err
			}
			all = append(all, ds...)
		})
	}
	wg.Wait()
	if failed != nil {
		return failed
	}
	report(figure{"200 terminals typed into at once (10 keys/s each): p99 echo", us(percentile(all, .99)), "", "", "≤ 10 ms"})
	report(figure{"labd RSS with 200 terminals", fmt.Sprintf("%.0f MB", l.rss()), "", "", "≤ 200 MB"})
	return nil
}

// observe opens an observer on the session of t... as an admin.
func (l *labd) observe(t *term) (*term, error) {
	// The busy terminal's session is the newest one: find it through the admin list.
	var list []struct{ ID string }
	if _, err := l.call("GET", "/api/sessions?live=1", l.admin, nil, &list); err != nil || len(list) == 0 {
		return nil, fmt.Errorf("list sessions: %v", err)
	}
	return l.openTerm(l.admin, list[0].ID, "node1")
}

// directThroughput reads the same stream from a PTY of the bench's own.
func directThroughput(size int) (time.Duration, error) {
	c := exec.Command("sh", "-c", fmt.Sprintf("head -c %d /dev/zero | tr '\\0' x", size))
	start := time.Now()
	f, err := pty.Start(c)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 32<<10)
	n := 0
	for n < size {
		m, err := f.Read(buf)
		n += m
		if err != nil {
			break
		}
	}
	d := time.Since(start)
	f.Close()
	c.Wait()
	return d, nil
}

func us(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

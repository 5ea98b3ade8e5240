package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/docker"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// labd is one running `labd serve` for a test: real Docker, real SQLite.
type labd struct {
	url      string
	data     string
	instance string
	cancel   context.CancelFunc
	done     chan int
	stderr   *bytes.Buffer
	rt       *docker.Runtime // the same instance, for running solutions and counting leftovers
}

func needDocker(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end to end on Docker (run without -short)")
	}
}

// startLabd starts labd serve on 127.0.0.1:0 with data in data and the labs
// in labsDir, and stops it when the test ends.
func startLabd(t *testing.T, data, instance, labsDir string, extra ...string) *labd {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	l := &labd{data: data, instance: instance, cancel: cancel, done: make(chan int, 1), stderr: &bytes.Buffer{}}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--labs", labsDir,
		"--instance", instance, "--site", "", "--log-level", "warn"}, extra...)
	go func() {
		l.done <- run(ctx, args, func(string) string { return "" }, pw, &syncWriter{buf: l.stderr})
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "labd: listening on "); ok {
			l.url = u
			break
		}
	}
	if l.url == "" {
		cancel()
		t.Fatalf("labd did not start: exit %d\n%s", <-l.done, l.stderr)
	}
	go io.Copy(io.Discard, pr)
	rt, err := docker.New(instance, "10.213.0.0/24")
	if err != nil {
		t.Fatal(err)
	}
	l.rt = rt
	// Sessions created before recovery ends queue; tests start from ready.
	l.waitReady(t)
	t.Cleanup(func() {
		l.stop(t)
		// A stopped labd leaves its sessions for the next one; tests leave nothing.
		ids, _ := rt.Sessions(context.Background())
		for _, id := range ids {
			rt.Destroy(context.Background(), id)
		}
	})
	return l
}

// syncWriter collects labd's log; labd writes it from many goroutines.
type syncWriter struct {
	mu  sync.Mutex
	buf *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// stop ends labd as a crash would look to the next one: sessions stay.
func (l *labd) stop(t *testing.T) {
	if l.cancel == nil {
		return
	}
	l.cancel()
	l.cancel = nil
	select {
	case code := <-l.done:
		if code != 0 {
			t.Errorf("labd exited %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Error("labd did not stop")
	}
}

func (l *labd) token(t *testing.T, user string, role auth.Role) string {
	tk, err := auth.LoadTokens(l.data)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tk.Issue(auth.User{ID: user, Role: role}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (l *labd) call(t *testing.T, method, path, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, l.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
	}
	return resp.StatusCode
}

type session struct {
	ID     string
	State  string
	Reason string
	Queue  *struct{ Position int }
	Steps  []struct {
		ID     string
		Passed bool
	}
}

// startSession creates a session of labID and waits until it is no longer provisioning.
func (l *labd) startSession(t *testing.T, token, labID string) session {
	t.Helper()
	var s session
	if code := l.call(t, "POST", "/api/sessions", token, map[string]string{"lab": labID}, &s); code != 201 {
		t.Fatalf("create %s: %d %+v", labID, code, s)
	}
	return l.waitSession(t, token, s)
}

// waitSession waits while s is queued or provisioning.
func (l *labd) waitSession(t *testing.T, token string, s session) session {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for (s.State == "provisioning" || s.State == "queued") && time.Now().Before(deadline) {
		l.call(t, "GET", "/api/sessions/"+s.ID+"?wait=30s", token, nil, &s)
	}
	return s
}

// waitReady waits until /readyz answers 200: the previous labd's sessions
// are adopted.
func (l *labd) waitReady(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; {
		var r struct{ Ready bool }
		if l.call(t, "GET", "/readyz", "", nil, &r) == 200 && r.Ready {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("labd did not become ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readySession starts a session of labID and requires it to become ready.
func (l *labd) readySession(t *testing.T, token, labID string) session {
	t.Helper()
	s := l.startSession(t, token, labID)
	if s.State != "ready" {
		t.Fatalf("session of %s: %s: %s", labID, s.State, s.Reason)
	}
	return s
}

type checkResult struct {
	Passed bool
	Output string
}

func (l *labd) check(t *testing.T, token, id, step string) checkResult {
	t.Helper()
	var r checkResult
	if code := l.call(t, "POST", "/api/sessions/"+id+"/steps/"+step+"/check", token, nil, &r); code != 200 {
		t.Fatalf("check %s: %d", step, code)
	}
	return r
}

// leftovers counts the instance's sessions that still have containers,
// bridges or volumes.
func (l *labd) leftovers(t *testing.T) int {
	t.Helper()
	ids, err := l.rt.Sessions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(ids)
}

func instanceName(t *testing.T) string {
	return fmt.Sprintf("e2e-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano()%1e6)
}

// TestEveryLab provisions every lab in labs/ on Docker and, step by step,
// requires each check to fail before its solution runs, with a message for
// the trainee in Chinese and in English, and pass after it. With
// LAB_TEST_BUSY=N, every node runs N busy loops meanwhile (bounded to 15
// minutes): solutions and checks must wait for the state they need, not
// for a lucky moment.
func TestEveryLab(t *testing.T) {
	needDocker(t)
	catalog, err := lab.LoadCatalog("../labs")
	if err != nil {
		t.Fatal(err)
	}
	busy, _ := strconv.Atoi(os.Getenv("LAB_TEST_BUSY"))
	l := startLabd(t, t.TempDir(), instanceName(t), "../labs")
	// Two labs at a time (LAB_TEST_PARALLEL changes it): a Ceph lab mostly
	// waits on its daemons, and its solutions wait for the states they need,
	// so two share the 2 cores CI has and halve the suite's time.
	par := 2
	if n, err := strconv.Atoi(os.Getenv("LAB_TEST_PARALLEL")); err == nil && n > 0 {
		par = n
	}
	slots := make(chan struct{}, par)
	// After every lab's subtest (they run once this function returns), while
	// labd still runs.
	t.Cleanup(func() {
		if n := l.leftovers(t); n != 0 {
			t.Errorf("%d sessions left with containers, bridges or volumes", n)
		}
	})
	for _, def := range catalog.All() {
		t.Run(def.ID, func(t *testing.T) {
			t.Parallel()
			slots <- struct{}{}
			defer func() { <-slots }()
			tok := l.token(t, "trainee-"+def.ID, auth.Trainee)
			start := time.Now()
			s := l.startSession(t, tok, def.ID)
			if s.State != "ready" {
				t.Fatalf("session %s: %s", s.State, s.Reason)
			}
			t.Logf("ready in %s", time.Since(start).Round(time.Millisecond))
			t.Cleanup(func() { l.call(t, "DELETE", "/api/sessions/"+s.ID, tok, nil, nil) })
			if busy > 0 {
				l.busyNodes(t, s.ID, def, busy)
			}
			for i, step := range def.Steps {
				// Entered as the lab page enters it: its on_enter scripts run.
				if code := l.call(t, "POST", "/api/sessions/"+s.ID+"/steps/"+step.ID+"/enter", tok, nil, nil); code/100 != 2 {
					t.Fatalf("enter step %s: %d", step.ID, code)
				}
				for _, lang := range []string{"zh", "en"} {
					if !verified(step) { // an imported step without a verify script always passes
						break
					}
					r := l.checkIn(t, tok, s.ID, step.ID, lang)
					if r.Passed {
						t.Fatalf("step %s passes before its solution ran", step.ID)
					}
					if msg, ok := strings.CutPrefix(r.Output, "FAIL:"); !ok || strings.TrimSpace(msg) == "" {
						t.Errorf("step %s fails without a FAIL: message for the trainee in %s: %q", step.ID, lang, r.Output)
					} else if !slices.Contains(def.Untranslated, lang) && hasHan(r.Output) != (lang == "zh") {
						t.Errorf("step %s: the %s message is not in %s: %q", step.ID, lang, lang, r.Output)
					}
				}
				began := time.Now()
				res, err := l.rt.Exec(context.Background(), s.ID, step.Solution.Node,
					lab.Command{Script: step.Solution.Body, Timeout: 10 * time.Minute})
				if err != nil || res.ExitCode != 0 {
					t.Fatalf("solution of %s: exit %d %v\n%s", step.ID, res.ExitCode, err, res.Output)
				}
				solved := time.Since(began)
				for _, done := range def.Steps[:i+1] {
					if r := l.check(t, tok, s.ID, done.ID); !r.Passed {
						t.Fatalf("after the solution of %s, step %s fails: %s", step.ID, done.ID, r.Output)
					}
				}
				t.Logf("step %s: solution %s, checks %s", step.ID, solved.Round(time.Millisecond),
					(time.Since(began) - solved).Round(time.Millisecond))
			}
			if code := l.call(t, "DELETE", "/api/sessions/"+s.ID, tok, nil, nil); code != 204 {
				t.Errorf("delete: %d", code)
			}
			t.Logf("done in %s", time.Since(start).Round(time.Millisecond))
		})
	}
}

// checkIn checks a step with its messages in lang.
func (l *labd) checkIn(t *testing.T, token, id, step, lang string) checkResult {
	t.Helper()
	var r checkResult
	if code := l.call(t, "POST", "/api/sessions/"+id+"/steps/"+step+"/check", token, map[string]string{"lang": lang}, &r); code != 200 {
		t.Fatalf("check %s in %s: %d", step, lang, code)
	}
	return r
}

// hasHan reports whether s holds a Chinese character.
func hasHan(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) })
}

// busyNodes starts n busy loops in every node of a session, each ending by
// itself after 15 minutes (or with the session): a slow machine, honestly.
func (l *labd) busyNodes(t *testing.T, id string, def *lab.Definition, n int) {
	t.Helper()
	for _, node := range def.Nodes {
		script := fmt.Sprintf("for i in $(seq 1 %d); do timeout 900 sh -c 'while :; do :; done' >/dev/null 2>&1 & done", n)
		if res, err := l.rt.Exec(context.Background(), id, node.Name, lab.Command{Script: script, Timeout: time.Minute}); err != nil || res.ExitCode != 0 {
			t.Fatalf("busy loops on %s: exit %d %v %s", node.Name, res.ExitCode, err, res.Output)
		}
	}
	t.Logf("%d busy loops in each node", n)
}

// TestRecoveryAfterCrash: a second labd adopts the first one's live session
// with its state, and removes what no store knows.
func TestRecoveryAfterCrash(t *testing.T) {
	needDocker(t)
	data, instance := t.TempDir(), instanceName(t)
	first := startLabd(t, data, instance, "../labs")
	tok := first.token(t, "alice", auth.Trainee)
	s := first.readySession(t, tok, "linux-basics")
	def, _ := lab.LoadDefinition("../labs/linux-basics/lab.yaml")
	first.rt.Exec(context.Background(), s.ID, "node1", lab.Command{Script: def.Steps[0].Solution.Body})
	if !first.check(t, tok, s.ID, def.Steps[0].ID).Passed {
		t.Fatal("step 1 does not pass after its solution")
	}
	first.stop(t)
	// An orphan made while labd was down: resources of this instance that no store knows.
	if _, err := first.rt.Create(context.Background(), lab.EnvSpec{Session: "orphan", Lab: "linux-basics",
		Nodes: []lab.Node{{Name: "node1", Image: "academy/tiny", Memory: 32 << 20, CPUs: 0.1, Pids: 16}}}); err != nil {
		t.Fatal(err)
	}

	second := startLabd(t, data, instance, "../labs")
	second.waitReady(t)
	var got session
	second.call(t, "GET", "/api/sessions/"+s.ID, tok, nil, &got)
	if got.State != "ready" || !got.Steps[0].Passed {
		t.Fatalf("after restart: %+v", got)
	}
	// The environment is the same one: the solution's work is still there.
	if !second.check(t, tok, s.ID, def.Steps[0].ID).Passed {
		t.Error("the adopted session lost its work")
	}
	ids, _ := second.rt.Sessions(context.Background())
	for _, id := range ids {
		if id == "orphan" {
			t.Error("the orphan was not removed")
		}
	}
	second.call(t, "DELETE", "/api/sessions/"+s.ID, tok, nil, nil)
	if n := second.leftovers(t); n != 0 {
		t.Errorf("%d sessions left with containers, bridges or volumes", n)
	}
}

// TestFailedProvisionEndToEnd: a lab whose setup fails and a lab whose image
// is missing both end as failed, with why, and leave nothing behind.
func TestFailedProvisionEndToEnd(t *testing.T) {
	needDocker(t)
	dir := t.TempDir()
	write := func(path, body string) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, path)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, path), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ id, image, setup string }{
		{"bad-setup", "academy/tiny", "echo preparing; echo disk full >&2; exit 7"},
		{"bad-image", "academy/nothing-here", "true"},
	} {
		write(tc.id+"/lab.yaml", fmt.Sprintf(`id: %s
title: {zh: 坏, en: Broken}
duration: 5m
nodes: [{name: node1, image: %s, memory: 32Mi, cpus: 0.1, pids: 16}, {name: node2, image: academy/tiny, memory: 32Mi, volumes: [/data]}]
setup: [{node: node1, script: setup.sh}]
steps: [{id: s, title: {zh: 步, en: Step}, text: s, check: {node: node1, run: "true"}, solution: setup.sh}]
`, tc.id, tc.image))
		write(tc.id+"/setup.sh", tc.setup)
		write(tc.id+"/s.zh.md", "步")
		write(tc.id+"/s.en.md", "Step")
	}
	l := startLabd(t, t.TempDir(), instanceName(t), dir)
	tok := l.token(t, "alice", auth.Trainee)
	// stdout and stderr may arrive in either order.
	for id, want := range map[string][]string{"bad-setup": {"exit code 7", "preparing", "disk full"}, "bad-image": {"make images"}} {
		s := l.startSession(t, tok, id)
		if s.State != "failed" || !containsAll(s.Reason, want) {
			t.Errorf("%s: %s %q, want failed with %q", id, s.State, s.Reason, want)
		}
	}
	if n := l.leftovers(t); n != 0 {
		t.Errorf("%d sessions left with containers, bridges or volumes after failed provisioning", n)
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "broken"), 0o755)
	os.WriteFile(filepath.Join(dir, "broken", "lab.yaml"), []byte("id: broken\ntitle: {zh: x, en: y}\nduration: soon\n"), 0o644)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"validate", dir}, func(string) string { return "" }, &out, &errb)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	want := filepath.Join(dir, "broken", "lab.yaml") + `:3: duration: want a duration such as 45m or 2h, found "soon"`
	if !strings.Contains(out.String(), want) {
		t.Errorf("output:\n%s\nwant a line:\n%s", out.String(), want)
	}
	out.Reset()
	if code := run(context.Background(), []string{"validate", "--certs", "../certs", "../labs"}, func(string) string { return "" }, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "../certs: 2 programs ok") {
		t.Errorf("the repository's labs and programs: exit %d\n%s", code, out.String())
	}
	// A program naming a lab that does not exist, and a folder asked for that does not.
	certs := filepath.Join(dir, "certs")
	os.MkdirAll(certs, 0o755)
	prog, _ := os.ReadFile("internal/exam/testdata/good.yaml")
	os.WriteFile(filepath.Join(certs, "demo.yaml"), prog, 0o644)
	bank, _ := os.ReadFile("internal/exam/testdata/good.bank.yaml")
	os.WriteFile(filepath.Join(certs, "demo.bank.yaml"), bank, 0o644)
	out.Reset()
	code = run(context.Background(), []string{"validate", "--certs", certs, "../labs"}, func(string) string { return "" }, &out, &errb)
	want = filepath.Join(certs, "demo.yaml") + `:5: labs[0]: no lab "demo" in labs/`
	if code != 1 || !strings.Contains(out.String(), want) {
		t.Errorf("exit %d, output:\n%s\nwant a line:\n%s", code, out.String(), want)
	}
	errb.Reset()
	if code := run(context.Background(), []string{"validate", "--certs", filepath.Join(dir, "nope"), "../labs"}, func(string) string { return "" }, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "read certs folder") {
		t.Errorf("a missing --certs folder: exit %d, %s", code, errb.String())
	}
}

// TestCephNodeCrashRecovers: an admin kills a node of a trainee's Ceph
// lab (power lost) and starts it again; the node boots with its address
// and its daemons, and the cluster returns to HEALTH_OK.
func TestCephNodeCrashRecovers(t *testing.T) {
	needDocker(t)
	l := startLabd(t, t.TempDir(), instanceName(t), "../labs")
	tok := l.token(t, "trainee", auth.Trainee)
	s := l.readySession(t, tok, "ceph-health")
	// A trainee may not inject faults, nor a lecturer of whom the trainee is
	// not a student (that a class's lecturer may is the API's tests'); an
	// admin may.
	if code := l.call(t, "POST", "/api/sessions/"+s.ID+"/faults", tok, map[string]string{"node": "node2", "action": "kill"}, nil); code != 403 {
		t.Errorf("a trainee injecting a fault: %d, want 403", code)
	}
	if code := l.call(t, "POST", "/api/sessions/"+s.ID+"/faults", l.token(t, "lena", auth.Lecturer), map[string]string{"node": "node2", "action": "kill"}, nil); code != 404 {
		t.Errorf("a lecturer from outside the trainee's classes injecting a fault: %d, want 404", code)
	}
	admin := l.token(t, "root", auth.Admin)
	for _, action := range []string{"kill", "start"} {
		if code := l.call(t, "POST", "/api/sessions/"+s.ID+"/faults", admin, map[string]string{"node": "node2", "action": action}, nil); code != 204 {
			t.Fatalf("%s node2: %d", action, code)
		}
	}
	res, err := l.rt.Exec(context.Background(), s.ID, "node1", lab.Command{
		Script: "sleep 3; ceph-lab wait 150 && ceph osd tree -f json | jq '[.nodes[] | select(.type==\"osd\" and .status==\"up\")] | length'", Timeout: 3 * time.Minute})
	if err != nil || res.ExitCode != 0 || strings.TrimSpace(string(res.Output)) != "3" {
		t.Fatalf("after node2 crashed: exit %d %v\n%s", res.ExitCode, err, res.Output)
	}
	if code := l.call(t, "POST", "/api/sessions/"+s.ID+"/faults", admin,
		map[string]string{"node": "node3", "action": "fill", "path": "/root", "size": "64Mi"}, nil); code != 204 {
		t.Fatalf("fill: %d", code)
	}
	res, _ = l.rt.Exec(context.Background(), s.ID, "node3", lab.Command{Script: "stat -c %s /root/.academy-fill"})
	if strings.TrimSpace(string(res.Output)) != "67108864" {
		t.Errorf("fill wrote %q bytes", res.Output)
	}
}

// TestBrokenCephClusterThenReset: a trainee stops the monitor; the check
// says so in a FAIL: line instead of hanging; a reset brings a fresh
// cluster where the lab starts over.
func TestBrokenCephClusterThenReset(t *testing.T) {
	needDocker(t)
	l := startLabd(t, t.TempDir(), instanceName(t), "../labs")
	tok := l.token(t, "trainee", auth.Trainee)
	s := l.readySession(t, tok, "ceph-pool")
	def, _ := lab.LoadDefinition("../labs/ceph-pool/lab.yaml")
	l.rt.Exec(context.Background(), s.ID, "node1", lab.Command{Script: def.Steps[0].Solution.Body, Timeout: time.Minute})
	if !l.check(t, tok, s.ID, "create-pool").Passed {
		t.Fatal("create-pool does not pass after its solution")
	}
	// The trainee deletes the pool: the check explains.
	l.rt.Exec(context.Background(), s.ID, "node1", lab.Command{Script: "ceph osd pool rm xpool xpool --yes-i-really-really-mean-it"})
	if r := l.checkIn(t, tok, s.ID, "create-pool", "en"); r.Passed || !strings.Contains(r.Output, "no pool named xpool") {
		t.Errorf("after deleting the pool: %+v", r)
	}
	// The trainee stops the monitor: the check says what is wrong, in time.
	l.rt.Exec(context.Background(), s.ID, "node1", lab.Command{Script: "pkill -x ceph-mon"})
	start := time.Now()
	r := l.checkIn(t, tok, s.ID, "create-pool", "en")
	if r.Passed || !strings.Contains(r.Output, "monitor") {
		t.Errorf("with the monitor stopped: %+v", r)
	}
	t.Logf("check with the monitor down answered in %s: %s", time.Since(start).Round(time.Second), r.Output)
	// Reset: a fresh cluster, the lab starts over.
	var reset session
	if code := l.call(t, "POST", "/api/sessions/"+s.ID+"/reset", tok, nil, &reset); code != 202 {
		t.Fatalf("reset: %d", code)
	}
	for reset.State == "provisioning" {
		l.call(t, "GET", "/api/sessions/"+s.ID+"?wait=60s", tok, nil, &reset)
	}
	if reset.State != "ready" || reset.Steps[0].Passed {
		t.Fatalf("after reset: %+v", reset)
	}
	if r := l.checkIn(t, tok, s.ID, "create-pool", "en"); r.Passed || !strings.Contains(r.Output, "no pool named xpool") {
		t.Errorf("on the fresh cluster: %+v", r)
	}
}

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
)

// labd is a labd process the bench started: its API and its figures.
type labd struct {
	cmd      *exec.Cmd
	instance string
	url      string
	tokens   *auth.Tokens
	admin    string
	users    atomic.Int64
}

func startLabd(bin, data, instance string, args ...string) (*labd, error) {
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--labs", "labs",
		"--site", "", "--instance", instance, "--log-level", "error"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(out)
	l := &labd{cmd: cmd, instance: instance}
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "labd: listening on "); ok {
			l.url = u
			break
		}
	}
	if l.url == "" {
		cmd.Process.Kill()
		return nil, fmt.Errorf("labd did not start")
	}
	go io.Copy(io.Discard, out)
	if l.tokens, err = auth.LoadTokens(data); err != nil {
		return nil, err
	}
	l.admin, _ = l.tokens.Issue(auth.User{ID: "bench-admin", Role: auth.Admin}, 2*time.Hour)
	return l, nil
}

func (l *labd) stop() {
	if l.cmd.ProcessState != nil {
		return
	}
	l.cmd.Process.Signal(os.Interrupt)
	l.cmd.Wait()
}

// user returns a token for a new trainee.
func (l *labd) user() string {
	tok, _ := l.tokens.Issue(auth.User{ID: fmt.Sprintf("u%d", l.users.Add(1)), Role: auth.Trainee}, 2*time.Hour)
	return tok
}

var httpc = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200}, Timeout: 10 * time.Minute}

func (l *labd) call(method, path, token string, body any, out any) (int, error) {
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
	resp, err := httpc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
	}
	if resp.StatusCode >= 400 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode, nil
}

type session struct {
	ID, State, Reason string
}

// start creates a session and waits until it is ready; it returns the time
// from POST until ready.
func (l *labd) start(token, labID string) (session, time.Duration, error) {
	t0 := time.Now()
	var s session
	if _, err := l.call("POST", "/api/sessions", token, map[string]string{"lab": labID}, &s); err != nil {
		return s, 0, err
	}
	for s.State == "provisioning" {
		if _, err := l.call("GET", "/api/sessions/"+s.ID+"?wait=60s", token, nil, &s); err != nil {
			return s, 0, err
		}
	}
	d := time.Since(t0)
	if s.State != "ready" {
		return s, d, fmt.Errorf("session %s %s: %s", s.ID, s.State, s.Reason)
	}
	return s, d, nil
}

func (l *labd) end(token, id string) error {
	_, err := l.call("DELETE", "/api/sessions/"+id, token, nil, nil)
	return err
}

// metric reads one value from /metrics.
func (l *labd) metric(name string) (float64, error) {
	req, _ := http.NewRequest("GET", l.url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+l.admin)
	resp, err := httpc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+]+)$`).FindSubmatch(data)
	if m == nil {
		return 0, fmt.Errorf("metric %s not found", name)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// rss is labd's resident memory in MB.
func (l *labd) rss() float64 {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", l.cmd.Process.Pid))
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(data)
	if m == nil {
		return 0
	}
	kb, _ := strconv.ParseFloat(string(m[1]), 64)
	return kb / 1024
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return s[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// TestKillercodaScenarios imports the scenarios in the killercoda
// package's testdata with `labd import killercoda` into a labs folder of
// its own, then runs them on Docker as TestEveryLab runs the native labs:
// each step's check (the scenario's verify) fails before its solution (the
// commands the step's text runs) and passes after, with the scenario's
// background scripts run as they would be and its foreground scripts run
// to their end.
func TestKillercodaScenarios(t *testing.T) {
	needDocker(t)
	labs := importScenarios(t, "internal/killercoda/testdata/scenarios")
	if len(labs) < 5 {
		t.Fatalf("imported %d scenarios, want at least 5", len(labs))
	}
	l := startLabd(t, t.TempDir(), instanceName(t), filepath.Dir(labs[0].Dir))
	for _, def := range labs {
		t.Run(def.ID, func(t *testing.T) { runImported(t, l, def) })
	}
	if n := l.leftovers(t); n != 0 {
		t.Errorf("%d sessions left with containers, bridges or volumes", n)
	}
}

// TestKillercodaRefused: a Kubernetes scenario is refused with one line
// naming its backend, exit 1, and nothing is written.
func TestKillercodaRefused(t *testing.T) {
	for _, name := range []string{"kubernetes", "kubectl-2nodes"} {
		out := filepath.Join(t.TempDir(), "labs", name)
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"import", "killercoda", "internal/killercoda/testdata/refused/" + name, "--out", out},
			func(string) string { return "" }, &stdout, &stderr)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], `backend "kubernetes-kubeadm-`) || !strings.Contains(lines[0], "supported: ubuntu") {
			t.Errorf("%s: exit %d, stderr:\n%s", name, code, stderr.String())
		}
		if _, err := os.Stat(filepath.Dir(out)); !os.IsNotExist(err) {
			t.Errorf("%s: something was written: %v", name, err)
		}
	}
}

// importScenarios runs `labd import killercoda` on a folder of scenarios
// and loads the labs it wrote, which must validate.
func importScenarios(t *testing.T, src string) []*lab.Definition {
	t.Helper()
	labsDir := filepath.Join(t.TempDir(), "labs")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"import", "killercoda", src, "--out", labsDir},
		func(string) string { return "" }, &stdout, &stderr); code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	t.Logf("import:\n%s", stdout.String())
	cat, err := lab.LoadCatalog(labsDir)
	if err != nil {
		t.Fatalf("the imported labs do not validate:\n%v", err)
	}
	return cat.All()
}

// verified reports whether an imported step has the scenario's verify
// script; a step without one always passes.
func verified(s lab.Step) bool { return s.Check.Run != "true" }

// runImported provisions one imported lab and works through its steps.
func runImported(t *testing.T, l *labd, def *lab.Definition) {
	tok := l.token(t, "trainee-"+def.ID, auth.Trainee)
	start := time.Now()
	s := l.startSession(t, tok, def.ID)
	if s.State != "ready" {
		t.Fatalf("session %s: %s", s.State, s.Reason)
	}
	t.Logf("ready in %s", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() { l.call(t, "DELETE", "/api/sessions/"+s.ID, tok, nil, nil) })
	exec := func(node, script string, timeout time.Duration) lab.Result {
		t.Helper()
		res, err := l.rt.Exec(context.Background(), s.ID, node, lab.Command{Script: script, Timeout: timeout})
		if err != nil {
			t.Fatalf("on %s: %v", node, err)
		}
		return res
	}
	// Killercoda's fixed host addresses and /etc/killercoda/host.
	for _, n := range def.Nodes {
		if res := exec(n.Name, "grep -qx 'http://172.30.1.2:PORT' /etc/killercoda/host && ping -c 1 -W 2 172.30.1.2 >/dev/null", 10*time.Second); res.ExitCode != 0 {
			t.Errorf("%s: no /etc/killercoda/host or no way to 172.30.1.2: %s", n.Name, res.Output)
		}
	}
	// A foreground script is typed into the terminal; here it runs to its
	// end (most wait for a background script, which must have run).
	foreground := func(what string, f lab.Foreground) {
		if f.Script == "" && f.Run == "" {
			return
		}
		body := f.Run
		if f.Script != "" {
			data, err := os.ReadFile(filepath.Join(def.Dir, f.Script))
			if err != nil {
				t.Fatal(err)
			}
			body = string(data)
		}
		if res := exec(f.Node, "#!/bin/bash\nexport TERM=xterm\n"+body, time.Minute); res.ExitCode != 0 || res.TimedOut {
			t.Fatalf("%s foreground: exit %d\n%s", what, res.ExitCode, res.Output)
		}
	}
	foreground("the lab's", def.Foreground)
	for i, step := range def.Steps {
		enter(t, l, tok, s.ID, def, step, exec)
		foreground(step.ID, step.Foreground)
		if verified(step) {
			if r := l.check(t, tok, s.ID, step.ID); r.Passed {
				t.Fatalf("step %s passes before its solution ran", step.ID)
			} else if !strings.HasPrefix(r.Output, "FAIL:") {
				t.Errorf("step %s fails without a FAIL: message for the trainee: %q", step.ID, r.Output)
			}
		}
		if res := exec(step.Solution.Node, step.Solution.Body, time.Minute); res.ExitCode != 0 {
			t.Fatalf("solution of %s: exit %d\n%s", step.ID, res.ExitCode, res.Output)
		}
		for _, done := range def.Steps[:i+1] {
			if r := l.check(t, tok, s.ID, done.ID); !r.Passed {
				t.Fatalf("after the solution of %s, step %s fails: %s", step.ID, done.ID, r.Output)
			}
		}
	}
	if code := l.call(t, "DELETE", "/api/sessions/"+s.ID, tok, nil, nil); code != 204 {
		t.Errorf("delete: %d", code)
	}
}

// enter enters a step as the lab page does. Where this labd has no
// step-enter route yet, the step's on_enter scripts (the scenario's
// background scripts) are run here, as root in their node, as it would.
func enter(t *testing.T, l *labd, tok, session string, def *lab.Definition, step lab.Step, exec func(string, string, time.Duration) lab.Result) {
	t.Helper()
	if code := l.call(t, "POST", fmt.Sprintf("/api/sessions/%s/steps/%s/enter", session, step.ID), tok, nil, nil); code/100 == 2 {
		return
	}
	for _, sc := range step.OnEnter {
		data, err := os.ReadFile(filepath.Join(def.Dir, sc.Script))
		if err != nil {
			t.Fatal(err)
		}
		for _, node := range sc.Targets() {
			if res := exec(node, string(data), 2*time.Minute); res.ExitCode != 0 {
				t.Fatalf("on_enter %s of %s: exit %d\n%s", sc.Script, step.ID, res.ExitCode, res.Output)
			}
		}
	}
}

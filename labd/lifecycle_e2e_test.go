package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// TestUnremovableOrphanHoldsCapacity: an orphan the daemon will not remove
// (its volume is held by a container that is not labd's) does not keep labd
// from serving or from becoming ready; it holds its place under
// --max-sessions, so a trainee queues; once it can be removed the reaper
// does, and the queued session starts by itself.
func TestUnremovableOrphanHoldsCapacity(t *testing.T) {
	needDocker(t)
	data, instance := t.TempDir(), instanceName(t)
	first := startLabd(t, data, instance, "../labs")
	first.stop(t)
	ctx := context.Background()
	orphan := fmt.Sprintf("wedge%d", time.Now().UnixNano()%1e9)
	if _, err := first.rt.Create(ctx, lab.EnvSpec{Session: orphan, Lab: "linux-basics",
		Nodes: []lab.Node{{Name: "node1", Image: "academy/tiny", Memory: 32 << 20, CPUs: 0.1, Pids: 16, Volumes: []string{"/data"}}}}); err != nil {
		t.Fatal(err)
	}
	// Not labd's: no instance label. It keeps the orphan's volume in use.
	cli := first.rt.Client()
	holder, err := cli.ContainerCreate(ctx, &container.Config{Image: "academy/tiny", Cmd: []string{"true"}},
		&container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: "academy-" + orphan + "-node1-0", Target: "/held"}}},
		nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	removeHolder := func() {
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := cli.ContainerRemove(rctx, holder.ID, container.RemoveOptions{Force: true}); err != nil {
			t.Error(err)
		}
	}
	held := true
	t.Cleanup(func() {
		if held {
			removeHolder()
		}
	})

	l := startLabd(t, data, instance, "../labs", "--max-sessions", "1", "--reap-every", "1s")
	l.waitReady(t) // one attempt at the orphan, failed, handed to the reaper
	ids, _ := l.rt.Sessions(ctx)
	if !containsAll(fmt.Sprint(ids), []string{orphan}) {
		t.Fatalf("the orphan is gone already (%v): its volume was not held", ids)
	}
	tok := l.token(t, "alice", auth.Trainee)
	var s session
	if code := l.call(t, "POST", "/api/sessions", tok, map[string]string{"lab": "linux-basics"}, &s); code != 201 ||
		s.State != "queued" || s.Queue == nil || s.Queue.Position != 1 {
		t.Fatalf("with the only place held by the orphan: %d %+v, want queued first in line", code, s)
	}
	removeHolder()
	held = false
	s = l.waitSession(t, tok, s)
	if s.State != "ready" {
		t.Fatalf("queued session after the orphan went: %s %q, want ready", s.State, s.Reason)
	}
	ids, _ = l.rt.Sessions(ctx)
	if containsAll(fmt.Sprint(ids), []string{orphan}) {
		t.Errorf("the orphan is still there: %v", ids)
	}
	l.call(t, "DELETE", "/api/sessions/"+s.ID, tok, nil, nil)
	if n := l.leftovers(t); n != 0 {
		t.Errorf("%d sessions left with containers, bridges or volumes", n)
	}
}

// TestStopWhileProvisioning: labd stopped a moment after a session was
// created does not fail it; it is ready after the next start (finished in
// the stop's grace, or provisioned again from scratch under the same id).
func TestStopWhileProvisioning(t *testing.T) {
	needDocker(t)
	data, instance := t.TempDir(), instanceName(t)
	first := startLabd(t, data, instance, "../labs")
	tok := first.token(t, "alice", auth.Trainee)
	var s session
	if code := first.call(t, "POST", "/api/sessions", tok, map[string]string{"lab": "linux-basics"}, &s); code != 201 {
		t.Fatalf("create: %d %+v", code, s)
	}
	first.stop(t)
	second := startLabd(t, data, instance, "../labs")
	second.waitReady(t)
	second.call(t, "GET", "/api/sessions/"+s.ID, tok, nil, &s)
	if s = second.waitSession(t, tok, s); s.State != "ready" {
		t.Fatalf("after the restart: %s %q, want ready", s.State, s.Reason)
	}
	second.call(t, "DELETE", "/api/sessions/"+s.ID, tok, nil, nil)
	if n := second.leftovers(t); n != 0 {
		t.Errorf("%d sessions left with containers, bridges or volumes", n)
	}
}

// TestClassEndReleasesPool: a class's reserved pool environments are real
// containers an admin sees (marked pool) and may remove; ending the class
// removes the rest at once, not at the window's end.
func TestClassEndReleasesPool(t *testing.T) {
	needDocker(t)
	l := startLabd(t, t.TempDir(), instanceName(t), "../labs", "--reap-every", "1s")
	lee := l.token(t, "lee", auth.Lecturer)
	root := l.token(t, "root", auth.Admin)
	now := time.Now().UTC()
	var c struct{ ID string }
	if code := l.call(t, "POST", "/api/classes", lee, map[string]any{"title": "Week 49", "course": "linux",
		"labs": []string{"linux-basics"}, "start": now, "end": now.Add(2 * time.Hour), "capacity": 5}, &c); code != 201 {
		t.Fatalf("create class: %d", code)
	}
	req, _ := http.NewRequest("POST", l.url+"/api/classes/"+c.ID+"/roster", strings.NewReader("Ada,ada@example.com\nBo,bo@example.com\n"))
	req.Header.Set("Authorization", "Bearer "+lee)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("roster: %d", resp.StatusCode)
	}
	type poolView struct {
		ID    string
		State string
		Pool  bool
	}
	pool := func() (ready []poolView, all int) {
		var list []poolView
		l.call(t, "GET", "/api/sessions?live=1", root, nil, &list)
		for _, s := range list {
			if s.Pool {
				all++
				if s.State == "ready" {
					ready = append(ready, s)
				}
			}
		}
		return ready, all
	}
	var ready []poolView
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if ready, _ = pool(); len(ready) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the class's pool did not fill: %+v", ready)
		}
	}
	// An admin removes a pool session.
	if code := l.call(t, "DELETE", "/api/sessions/"+ready[0].ID, root, nil, nil); code != 204 {
		t.Fatalf("admin removes a pool session: %d", code)
	}
	if ids, _ := l.rt.Sessions(context.Background()); containsAll(fmt.Sprint(ids), []string{ready[0].ID}) {
		t.Errorf("the removed pool session still has containers")
	}
	// Ending the class releases the pool now.
	var ended struct{ End time.Time }
	if code := l.call(t, "POST", "/api/classes/"+c.ID+"/end", lee, nil, &ended); code != 200 || ended.End.After(time.Now()) {
		t.Fatalf("end class: %d %+v", code, ended)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		_, all := pool()
		if all == 0 && l.leftovers(t) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the class ended: %d pool sessions, %d with containers", all, l.leftovers(t))
		}
	}
}

// TestStopMidProvisioningReprovisions: a labd stopped while a session's
// setup outlasts the stop's grace leaves it provisioning; the next labd
// removes what it left and provisions it again, under the same id, to ready.
func TestStopMidProvisioningReprovisions(t *testing.T) {
	needDocker(t)
	dir := t.TempDir()
	write := func(path, body string) {
		if err := os.WriteFile(filepath.Join(dir, path), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll(filepath.Join(dir, "slow"), 0o755)
	write("slow/lab.yaml", `id: slow
title: {zh: 慢, en: Slow}
duration: 5m
nodes: [{name: node1, image: academy/tiny, memory: 32Mi, cpus: 0.1, pids: 16}]
setup: [{node: node1, script: setup.sh, timeout: 2m}]
steps: [{id: s, title: {zh: 步, en: Step}, text: s, check: {node: node1, run: "test -f /root/attempt"}, solution: setup.sh}]
`)
	// Each attempt leaves a mark in the node; a fresh node has none.
	write("slow/setup.sh", "test -f /root/attempt && exit 9\ntouch /root/attempt\nsleep 25\n")
	write("slow/s.zh.md", "步")
	write("slow/s.en.md", "Step")
	data, instance := t.TempDir(), instanceName(t)
	first := startLabd(t, data, instance, dir)
	tok := first.token(t, "alice", auth.Trainee)
	var s session
	if code := first.call(t, "POST", "/api/sessions", tok, map[string]string{"lab": "slow"}, &s); code != 201 {
		t.Fatalf("create: %d %+v", code, s)
	}
	first.stop(t) // the setup outlasts the 20 s grace
	second := startLabd(t, data, instance, dir)
	second.call(t, "GET", "/api/sessions/"+s.ID, tok, nil, &s)
	if s = second.waitSession(t, tok, s); s.State != "ready" {
		t.Fatalf("after the restart: %s %q, want ready", s.State, s.Reason)
	}
	second.call(t, "DELETE", "/api/sessions/"+s.ID, tok, nil, nil)
	if n := second.leftovers(t); n != 0 {
		t.Errorf("%d sessions left with containers, bridges or volumes", n)
	}
}

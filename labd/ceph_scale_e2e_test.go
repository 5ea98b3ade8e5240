package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// cephDefaultAIO is what a three-OSD lab with Ceph's default settings
// takes of the kernel's AIO slots: each OSD opens its block file twice
// (BlueStore, BlueFS) with a context of bdev_aio_max_queue_depth 1024.
const cephDefaultAIO = 3 * 2 * 1024

// TestCephLabsBeyondTheAIOLimit starts more Ceph labs with Ceph's default
// AIO settings than this host's free kernel AIO slots allow (computed from
// fs.aio-nr and fs.aio-max-nr, which are not ours to change): each must
// become ready or wait in line; none may fail with io_setup's EAGAIN.
func TestCephLabsBeyondTheAIOLimit(t *testing.T) {
	needDocker(t)
	labs := t.TempDir()
	cephDefaultLab(t, labs)
	free := readProcNumber(t, "sys/fs/aio-max-nr") - readProcNumber(t, "sys/fs/aio-nr")
	n := int(free/cephDefaultAIO) + 1
	t.Logf("%d kernel AIO slots free: %d labs of %d slots each", free, n, cephDefaultAIO)

	l := startLabd(t, t.TempDir(), instanceName(t), labs, "--max-per-user", "1")
	type started struct {
		tok string
		s   session
	}
	var all []started
	for i := range n {
		tok := l.token(t, fmt.Sprintf("trainee%d", i), auth.Trainee)
		var s session
		if code := l.call(t, "POST", "/api/sessions", tok, map[string]string{"lab": "ceph-default"}, &s); code != 201 {
			t.Fatalf("create %d: %d %+v", i, code, s)
		}
		all = append(all, started{tok, s})
		t.Cleanup(func() { l.call(t, "DELETE", "/api/sessions/"+s.ID, tok, nil, nil) })
	}
	// Settled: nothing provisioning on two looks a reap round apart (the
	// line is asked again every few seconds).
	deadline := time.Now().Add(time.Duration(n)*90*time.Second + 2*time.Minute)
	for calm := 0; calm < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the Ceph labs did not settle")
		}
		time.Sleep(6 * time.Second)
		calm++
		for i := range all {
			l.call(t, "GET", "/api/sessions/"+all[i].s.ID, all[i].tok, nil, &all[i].s)
			s := all[i].s
			switch s.State {
			case "failed", "ended":
				t.Fatalf("session %d %s %s: %s", i, s.ID, s.State, s.Reason)
			case "provisioning":
				calm = 0
			case "queued":
				if s.Queue == nil || s.Queue.Position < 1 {
					t.Errorf("session %d queued without a place in line: %+v", i, s)
				}
			}
		}
	}
	ready := 0
	for _, a := range all {
		if a.s.State == "ready" {
			ready++
		}
	}
	t.Logf("%d of %d ready, the others queued; aio-nr %d of %d", ready, n, readProcNumber(t, "sys/fs/aio-nr"), readProcNumber(t, "sys/fs/aio-max-nr"))
	if ready == 0 {
		t.Fatal("no Ceph lab became ready")
	}
	// The ready ones are real, healthy clusters.
	for _, a := range all {
		if a.s.State != "ready" {
			continue
		}
		res, err := l.rt.Exec(context.Background(), a.s.ID, "node1", lab.Command{Script: "ceph health", Timeout: time.Minute})
		if err != nil || !strings.HasPrefix(string(res.Output), "HEALTH_OK") {
			t.Errorf("session %s: ceph health: %v %s", a.s.ID, err, res.Output)
		}
	}
}

// cephDefaultLab writes labs/ceph-default: ceph-health with Ceph's default
// AIO queue depth, declaring what that costs.
func cephDefaultLab(t *testing.T, labs string) {
	t.Helper()
	dir := filepath.Join(labs, "ceph-default")
	if err := os.CopyFS(dir, os.DirFS("../labs/ceph-health")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "lab.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(string(data), "id: ceph-health", "id: ceph-default", 1)
	y = strings.Replace(y, "aio: 768}", "aio: "+strconv.Itoa(cephDefaultAIO)+"}", 1)
	if !strings.Contains(y, "id: ceph-default") || !strings.Contains(y, strconv.Itoa(cephDefaultAIO)) {
		t.Fatal("ceph-health's lab.yaml changed shape")
	}
	if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scripts/bootstrap.sh"),
		[]byte("#!/bin/sh\nCEPH_LAB_AIO_DEPTH=1024 exec ceph-lab mon\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func readProcNumber(t *testing.T, name string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + name)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

package hangup

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSession: the shell, a job in its own process group and a job that
// ignores SIGHUP all end; a process outside the session does not.
func TestSession(t *testing.T) {
	sh := exec.Command("/bin/sh", "-c", `set -m; trap "" HUP; sleep 300 & echo $!; (trap "" HUP; exec sleep 301) & echo $!; exec sleep 302`)
	sh.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	sh.Env = []string{"PATH=/usr/bin:/bin", "MARK=yes"}
	out, _ := sh.StdoutPipe()
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	var buf [64]byte
	n, _ := out.Read(buf[:])
	for n < 64 && strings.Count(string(buf[:n]), "\n") < 2 {
		m, err := out.Read(buf[n:])
		if err != nil {
			break
		}
		n += m
	}
	var jobs []int
	for _, f := range strings.Fields(string(buf[:n])) {
		pid, _ := strconv.Atoi(f)
		jobs = append(jobs, pid)
	}
	outsider := exec.Command("sleep", "303")
	outsider.Start()
	defer outsider.Process.Kill()
	if !Environ(sh.Process.Pid, "MARK=yes") || Environ(sh.Process.Pid, "MARK=no") {
		t.Error("Environ does not read the environment")
	}

	Session(sh.Process.Pid, 200*time.Millisecond)
	sh.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range append(jobs, sh.Process.Pid) {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d of the session still runs", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if len(jobs) != 2 {
		t.Fatalf("jobs %v", jobs)
	}
	if !alive(outsider.Process.Pid) {
		t.Error("a process outside the session was killed")
	}
}

// alive: the process exists and is not a zombie.
func alive(pid int) bool {
	if _, ok := procStat(pid); !ok {
		return false
	}
	b, _ := exec.Command("ps", "-o", "stat=", "-p", strconv.Itoa(pid)).Output()
	return !strings.Contains(string(b), "Z")
}

// Package hangup ends a terminal session on this machine: a shell and
// every job it started, found by their session in /proc. Both runtimes'
// shells are session leaders (a Docker exec's pid is given on the host,
// where labd runs as root).
package hangup

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Session ends the session led by pid: SIGHUP to all of it (bash passes it
// on to its jobs; jobs in their own process groups get it too), then, after
// grace, SIGKILL to whatever is left (jobs that ignore SIGHUP, nohup). A
// process is signalled only while it is still the one seen first (same
// start time): a pid that ended may belong to another process by then.
func Session(pid int, grace time.Duration) {
	procs := sessionProcs(pid)
	signal(procs, syscall.SIGHUP)
	time.Sleep(grace)
	signal(procs, syscall.SIGKILL)
}

func signal(procs map[int]string, sig syscall.Signal) {
	for p, start := range procs {
		if now, ok := procStat(p); ok && now.start == start {
			syscall.Kill(p, sig)
		}
	}
}

type stat struct {
	session int
	start   string // in clock ticks since boot
}

// procStat reads a process's session and start time from /proc.
func procStat(pid int) (stat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}, false
	}
	// pid (comm) state ppid pgrp session ... starttime is field 22; comm may hold anything but ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return stat{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return stat{}, false
	}
	sid, err := strconv.Atoi(f[3])
	return stat{session: sid, start: f[19]}, err == nil
}

// sessionProcs lists the processes of the session led by leader, leader
// included, with their start times.
func sessionProcs(leader int) map[int]string {
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := procStat(pid); ok && (st.session == leader || pid == leader) {
			out[pid] = st.start
		}
	}
	return out
}

// Environ reports whether a process's environment holds the entry kv ("K=V").
func Environ(pid int, kv string) bool {
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	return err == nil && bytes.Contains(append([]byte{0}, env...), []byte("\x00"+kv+"\x00"))
}

package docker

import (
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

func TestCauseFrom(t *testing.T) {
	limit := int64(256)
	host := &container.HostConfig{Resources: container.Resources{PidsLimit: &limit}}
	stats := func(pids, pidLimit uint64, m container.MemoryStats) container.StatsResponse {
		var s container.StatsResponse
		s.PidsStats = container.PidsStats{Current: pids, Limit: pidLimit}
		s.MemoryStats = m
		return s
	}
	for _, tc := range []struct {
		name string
		s    container.StatsResponse
		h    *container.HostConfig
		exit int
		want lab.Cause
	}{
		{"pids at the limit", stats(256, 256, container.MemoryStats{}), host, 126, lab.CauseNoPIDs},
		{"pids limit only in the host config", stats(255, 0, container.MemoryStats{}), host, 2, lab.CauseNoPIDs},
		{"pids well below", stats(12, 256, container.MemoryStats{}), host, 1, ""},
		{"killed near the memory limit", stats(5, 256, container.MemoryStats{Usage: 250 << 20, Limit: 256 << 20}), host, 137, lab.CauseOOM},
		{"killed after hitting the limit (cgroup v1)", stats(5, 256, container.MemoryStats{Usage: 10 << 20, Failcnt: 3, Limit: 256 << 20}), host, 137, lab.CauseOOM},
		{"killed, memory fine", stats(5, 256, container.MemoryStats{Usage: 10 << 20, Limit: 256 << 20}), host, 137, lab.CauseKilled},
		{"timed out, memory full", stats(5, 256, container.MemoryStats{Usage: 256 << 20, Limit: 256 << 20}), host, -1, ""},
		{"timed out, out of processes", stats(256, 256, container.MemoryStats{}), host, -1, lab.CauseNoPIDs},
		{"plain failure, memory full", stats(5, 256, container.MemoryStats{Usage: 256 << 20, Limit: 256 << 20}), host, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := causeFrom(tc.s, tc.h, tc.exit); got != tc.want {
				t.Errorf("causeFrom = %q, want %q", got, tc.want)
			}
		})
	}
}

package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/xsky-academy/academy/labd/internal/docker"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

var cephClass = flag.Int("ceph-class", 20, "Ceph labs started at once by the ceph20 part")

// cephClassFigures presses a class of Ceph labs (-ceph-class three-node
// ceph-health labs, 20) at once: all HEALTH_OK, time until the last is
// ready, p50 ready, memory and idle CPU in all, a check's round trip with
// them idle; and one lab alone before.
func cephClassFigures(bin, tmp, instance string, cli *client.Client) error {
	n := *cephClass
	fmt.Printf("A class of Ceph labs (%d × ceph-health at once):\n", n)
	inst := instance + "k"
	l, err := startLabd(bin, filepath.Join(tmp, "data-ceph20"), inst, "--max-per-user", "1000")
	if err != nil {
		return err
	}
	defer removeInstance(inst)
	defer l.stop()
	rt, err := docker.New(inst, "10.213.0.0/24")
	if err != nil {
		return err
	}
	defer rt.Close()

	var alone []time.Duration
	for range 3 {
		tok := l.user()
		s, d, err := l.startQueued(tok, "ceph-health")
		if err != nil {
			return err
		}
		alone = append(alone, d)
		l.end(tok, s.ID)
	}
	report(figure{"One Ceph lab alone: ready, p50 of 3", ms(percentile(alone, .5)),
		fmt.Sprintf("runs %s–%s", ms(percentile(alone, 0)), ms(percentile(alone, 1))), "", "≤ 20 s"})

	aio0 := procNumber("sys/fs/aio-nr")
	t0 := time.Now()
	out := make([]started, n)
	took := make([]time.Duration, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	peakAIO := aio0
	stopPeak := make(chan struct{})
	go func() {
		for {
			select {
			case <-stopPeak:
				return
			case <-time.After(time.Second):
				mu.Lock()
				peakAIO = max(peakAIO, procNumber("sys/fs/aio-nr"))
				mu.Unlock()
			}
		}
	}()
	for i := range out {
		wg.Go(func() {
			tok := l.user()
			s, d, err := l.startQueued(tok, "ceph-health")
			out[i], took[i] = started{tok, s, err}, d
		})
	}
	wg.Wait()
	last := time.Since(t0)
	close(stopPeak)
	var ready []time.Duration
	healthy, failed := 0, 0
	for i, o := range out {
		if o.err != nil {
			failed++
			fmt.Println("  ", o.err)
			continue
		}
		ready = append(ready, took[i])
		res, err := rt.Exec(context.Background(), o.s.ID, "node1", lab.Command{Script: "ceph health", Timeout: time.Minute})
		if err == nil && strings.HasPrefix(string(res.Output), "HEALTH_OK") {
			healthy++
		}
	}
	report(figure{fmt.Sprintf("%d Ceph labs at once: HEALTH_OK", n), fmt.Sprintf("%d of %d (%d failed)", healthy, n, failed), "", "", "all"})
	report(figure{"… time until the last is ready", fmt.Sprintf("%.0f s", last.Seconds()), "", "", "≤ 4 min"})
	report(figure{"… ready p50", fmt.Sprintf("%.1f s", percentile(ready, .5).Seconds()), "61.5 s (8 at once)", "", ""})
	mu.Lock()
	report(figure{"… kernel AIO slots they took (peak aio-nr rise)", fmt.Sprintf("%d", peakAIO-aio0), fmt.Sprintf("%d (6144 a lab)", 6144*n), "", ""})
	mu.Unlock()
	if v, err := l.metric(`labd_lab_committed{resource="aio"}`); err == nil {
		report(figure{"… AIO slots labd accounts for (/metrics)", fmt.Sprintf("%.0f", v), "", "", ""})
	}

	// Settled: two minutes after the last was ready.
	time.Sleep(2 * time.Minute)
	var mem float64
	for _, o := range out {
		if o.err == nil {
			mem += sessionMemory(cli, inst, o.s.ID)
		}
	}
	report(figure{"… memory in all", fmt.Sprintf("%.2f GB", mem/1024), "3.2 GB (8 labs)", "", ""})
	cpu := instanceCPU(cli, inst, 30*time.Second)
	report(figure{"… idle CPU in all (2 min after)", fmt.Sprintf("%.1f %% of a core", cpu*100), "16.5 % (8 labs)", "", "≤ 40 %"})

	var rtts []time.Duration
	for _, o := range out {
		if o.err != nil {
			continue
		}
		t := time.Now()
		var r struct{ Passed bool }
		if _, err := l.call("POST", "/api/sessions/"+o.s.ID+"/steps/collect-status/check", o.tok, nil, &r); err != nil {
			return err
		}
		rtts = append(rtts, time.Since(t))
	}
	report(figure{fmt.Sprintf("Step check round trip, %d labs idle, p50", len(rtts)), ms(percentile(rtts, .5)),
		fmt.Sprintf("max %s", ms(percentile(rtts, 1))), "", "≤ 1 s"})
	l.endAll(out)
	return nil
}

// startQueued creates a session and waits while it is queued or
// provisioning; it returns the time from POST until ready.
func (l *labd) startQueued(token, labID string) (session, time.Duration, error) {
	t0 := time.Now()
	var s session
	if _, err := l.call("POST", "/api/sessions", token, map[string]string{"lab": labID}, &s); err != nil {
		return s, 0, err
	}
	for s.State == "provisioning" || s.State == "queued" {
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

// instanceCPU is the CPU the instance's containers use over d, in cores,
// read from their cpuacct cgroups (this host's Engine reports no stats).
func instanceCPU(cli *client.Client, instance string, d time.Duration) float64 {
	f := filters.NewArgs(filters.Arg("label", docker.LabelInstance+"="+instance))
	cs, err := cli.ContainerList(context.Background(), container.ListOptions{Filters: f})
	if err != nil {
		return 0
	}
	read := func() (n float64) {
		for _, c := range cs {
			b, err := os.ReadFile("/sys/fs/cgroup/cpuacct/docker/" + c.ID + "/cpuacct.usage")
			if err == nil {
				v, _ := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
				n += v
			}
		}
		return n
	}
	a := read()
	time.Sleep(d)
	return (read() - a) / float64(d.Nanoseconds())
}

func procNumber(name string) int64 {
	b, _ := os.ReadFile("/proc/" + name)
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

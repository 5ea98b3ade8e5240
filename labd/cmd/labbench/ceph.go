package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/xsky-academy/academy/labd/internal/docker"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// cephLabs measures the storage labs: ready time (POST until HEALTH_OK),
// several clusters at once with their memory, and a warm-pool start.
func cephLabs(bin, tmp, instance string, cli *client.Client) error {
	fmt.Println("Ceph labs (ceph-health: 3 nodes, mon+mgr+3 OSDs, HEALTH_OK):")
	inst := instance + "c"
	l, err := startLabd(bin, filepath.Join(tmp, "data-ceph"), inst, "--max-per-user", "1000")
	if err != nil {
		return err
	}
	defer l.stop()
	defer removeInstance(inst)
	rt, err := docker.New(inst, "10.213.0.0/24")
	if err != nil {
		return err
	}
	defer rt.Close()

	var ds []time.Duration
	for range 5 {
		tok := l.user()
		s, d, err := l.start(tok, "ceph-health")
		if err != nil {
			return err
		}
		ds = append(ds, d)
		l.end(tok, s.ID)
	}
	report(figure{"Ceph lab ready (POST until HEALTH_OK), p50 of 5", ms(percentile(ds, .5)),
		fmt.Sprintf("runs %s–%s", ms(percentile(ds, 0)), ms(percentile(ds, 1))), "", "≤ 45 s"})

	// Six at once: all must reach HEALTH_OK; memory per lab from docker stats.
	const n = 6
	t0 := time.Now()
	out := l.startMany(n, "ceph-health")
	took := time.Since(t0)
	healthy := 0
	var worst float64
	for _, o := range out {
		if o.err != nil {
			fmt.Println("  ", o.err)
			continue
		}
		res, err := rt.Exec(context.Background(), o.s.ID, "node1", lab.Command{Script: "ceph health", Timeout: 30 * time.Second})
		if err == nil && strings.HasPrefix(string(res.Output), "HEALTH_OK") {
			healthy++
		}
		if mb := sessionMemory(cli, inst, o.s.ID); mb > worst {
			worst = mb
		}
	}
	report(figure{fmt.Sprintf("%d Ceph labs at once", n), fmt.Sprintf("%d of %d HEALTH_OK, all ready in %.0f s", healthy, n, took.Seconds()),
		"", "", "≥ 6 HEALTH_OK"})
	report(figure{"RAM of one running Ceph lab (the largest of them)", fmt.Sprintf("%.2f GB", worst/1024), "", "", "≤ 2.5 GB"})
	l.endAll(out)
	l.stop()

	// Warm pool: a ready cluster waits for its trainee.
	w, err := startLabd(bin, filepath.Join(tmp, "data-ceph-warm"), inst+"w", "--warm-pool", "ceph-health=1", "--reap-every", "200ms")
	if err != nil {
		return err
	}
	defer w.stop()
	defer removeInstance(inst + "w")
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if v, err := w.metric(`labd_warm_pool_ready{lab="ceph-health"}`); err == nil && v >= 1 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the Ceph warm pool did not fill")
		}
		time.Sleep(100 * time.Millisecond)
	}
	tok := w.user()
	s, d, err := w.start(tok, "ceph-health")
	if err != nil {
		return err
	}
	w.end(tok, s.ID)
	report(figure{"Ceph lab from the warm pool (POST until ready)", ms(d), "", "", "≤ 1 s"})
	return nil
}

// sessionMemory is the memory in MB the containers of a session use now.
func sessionMemory(cli *client.Client, instance, session string) float64 {
	ctx := context.Background()
	f := filters.NewArgs(filters.Arg("label", docker.LabelInstance+"="+instance), filters.Arg("label", docker.LabelSession+"="+session))
	cs, err := cli.ContainerList(ctx, container.ListOptions{Filters: f})
	if err != nil {
		return 0
	}
	var total float64
	for _, c := range cs {
		// The Engine here reports no memory stats (this host's hybrid
		// cgroups); read the container's memory cgroup as docker stats would.
		dir := "/sys/fs/cgroup/memory/docker/" + c.ID + "/"
		usage, err := os.ReadFile(dir + "memory.usage_in_bytes")
		if err != nil {
			continue
		}
		var used, inactive float64
		fmt.Sscan(strings.TrimSpace(string(usage)), &used)
		if stat, err := os.ReadFile(dir + "memory.stat"); err == nil {
			for line := range strings.Lines(string(stat)) {
				if v, ok := strings.CutPrefix(line, "total_inactive_file "); ok {
					fmt.Sscan(v, &inactive)
				}
			}
		}
		total += (used - inactive) / (1 << 20)
	}
	return total
}

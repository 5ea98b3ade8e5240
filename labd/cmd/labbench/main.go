// Command labbench measures the lab engine's figures against baselines taken
// in the same run (`make bench`): it builds labd, runs it as its own process
// on the real Docker daemon and drives it over HTTP like a browser would.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/vishvananda/netlink"

	"github.com/xsky-academy/academy/labd/internal/docker"
	"github.com/xsky-academy/academy/labd/internal/terminal"
)

var (
	runs     = flag.Int("runs", 10, "cold starts measured per kind")
	warmRuns = flag.Int("warm-runs", 40, "warm-pool starts measured")
	checks   = flag.Int("checks", 50, "checks measured")
	crowd    = flag.Int("crowd", 100, "sessions started at once")
	cycles   = flag.Int("cycles", 300, "create/destroy cycles of the leak test")
	only     = flag.String("only", "", "comma-separated parts to run: cold,warm,check,crowd,leak,term,ceph,ceph20,site,cert,proxy,db (default all)")
)

func main() {
	flag.Parse()
	if *servePorts != "" {
		fmt.Fprintln(os.Stderr, portServer(*servePorts))
		os.Exit(1)
	}
	if err := bench(); err != nil {
		fmt.Fprintln(os.Stderr, "labbench:", err)
		os.Exit(1)
	}
}

type figure struct{ name, value, baseline, ratio, target string }

var results []figure

func report(f figure) {
	results = append(results, f)
	fmt.Printf("  %-46s %s\n", f.name, f.value)
}

func want(part string) bool {
	return *only == "" || slices.Contains(strings.Split(*only, ","), part)
}

func bench() error {
	tmp, err := os.MkdirTemp("", "labbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "labd")
	build := exec.Command("go", "build", "-o", bin, "./labd")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build labd: %w", err)
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	ver, err := cli.ServerVersion(context.Background())
	if err != nil {
		return fmt.Errorf("docker: %w", err)
	}
	fmt.Printf("labbench: Docker %s (API %s), %d runs per cold figure\n", ver.Version, ver.APIVersion, *runs)

	instance := fmt.Sprintf("bench-%d", time.Now().Unix())
	l, err := startLabd(bin, filepath.Join(tmp, "data"), instance, "--max-per-user", "1000", "--max-sessions", "400")
	if err != nil {
		return err
	}
	defer l.stop()

	if want("cold") {
		if err := coldStarts(l); err != nil {
			return err
		}
	}
	if want("check") {
		if err := checkLatency(l); err != nil {
			return err
		}
	}
	if want("term") {
		if err := dockerEcho(l); err != nil {
			return err
		}
	}
	if want("crowd") {
		if err := manyAtOnce(l); err != nil {
			return err
		}
	}
	if want("leak") {
		if err := leaks(l, cli); err != nil {
			return err
		}
	}
	l.stop()
	if want("term") {
		if err := terminals(bin, tmp, instance); err != nil {
			return err
		}
	}
	if want("site") {
		if err := siteFigures(bin, tmp, instance); err != nil {
			return err
		}
	}
	if want("ceph") {
		if err := cephLabs(bin, tmp, instance, cli); err != nil {
			return err
		}
	}
	if want("ceph20") {
		if err := cephClassFigures(bin, tmp, instance, cli); err != nil {
			return err
		}
	}
	if want("warm") {
		w, err := startLabd(bin, filepath.Join(tmp, "data-warm"), instance+"w", "--max-per-user", "1000",
			"--warm-pool", "linux-basics=2", "--reap-every", "200ms")
		if err != nil {
			return err
		}
		err = warmStarts(w)
		w.stop()
		// A stopped labd leaves its pool for the next one to adopt; the bench has no next one.
		removeInstance(instance + "w")
		if err != nil {
			return err
		}
	}
	if want("proxy") {
		if err := proxyFigures(tmp, instance, cli, bin); err != nil {
			return err
		}
	}
	if want("db") {
		if err := dbFigures(bin, tmp, instance); err != nil {
			return err
		}
	}
	if want("cert") {
		if err := certFigures(); err != nil {
			return err
		}
	}
	fmt.Println()
	fmt.Printf("%-46s %-22s %-22s %-8s %s\n", "figure", "measured", "baseline", "ratio", "target")
	for _, f := range results {
		fmt.Printf("%-46s %-22s %-22s %-8s %s\n", f.name, f.value, f.baseline, f.ratio, f.target)
	}
	return nil
}

// dockerCLI is the baseline: the docker CLI doing what a one-node lab needs.
func dockerCLI() (time.Duration, error) {
	t0 := time.Now()
	out, err := exec.Command("docker", "run", "-d", "--init", "academy/base", "sleep", "infinity").Output()
	if err != nil {
		return 0, fmt.Errorf("docker run: %w", err)
	}
	id := strings.TrimSpace(string(out))
	if err := exec.Command("docker", "exec", id, "true").Run(); err != nil {
		return 0, fmt.Errorf("docker exec: %w", err)
	}
	d := time.Since(t0)
	exec.Command("docker", "rm", "-f", id).Run()
	return d, nil
}

func coldStarts(l *labd) error {
	fmt.Println("cold starts (baseline and labd interleaved):")
	var base, one, three []time.Duration
	for range *runs {
		d, err := dockerCLI()
		if err != nil {
			return err
		}
		base = append(base, d)
		for _, kind := range []struct {
			lab string
			out *[]time.Duration
		}{{"linux-basics", &one}, {"cluster-network", &three}} {
			tok := l.user()
			s, d, err := l.start(tok, kind.lab)
			if err != nil {
				return err
			}
			*kind.out = append(*kind.out, d)
			if err := l.end(tok, s.ID); err != nil {
				return err
			}
		}
	}
	b, o, t := percentile(base, 0.5), percentile(one, 0.5), percentile(three, 0.5)
	report(figure{"one-node cold start p50 (POST until ready)", ms(o), "docker CLI " + ms(b),
		fmt.Sprintf("%.2f", float64(o)/float64(b)), "ratio ≤ 1.0"})
	report(figure{"three-node cold start p50", ms(t), "one-node " + ms(o),
		fmt.Sprintf("%.2f", float64(t)/float64(o)), "ratio ≤ 1.5"})
	return nil
}

func checkLatency(l *labd) error {
	fmt.Println("check round trips:")
	tok := l.user()
	s, _, err := l.start(tok, "linux-basics")
	if err != nil {
		return err
	}
	defer l.end(tok, s.ID)
	var ds []time.Duration
	for range *checks {
		t0 := time.Now()
		if _, err := l.call("POST", "/api/sessions/"+s.ID+"/steps/make-notes/check", tok, nil, nil); err != nil {
			return err
		}
		ds = append(ds, time.Since(t0))
	}
	// Baseline: the docker CLI running the same kind of command in a container.
	id, err := exec.Command("docker", "run", "-d", "--init", "academy/base", "sleep", "infinity").Output()
	if err != nil {
		return err
	}
	cid := strings.TrimSpace(string(id))
	defer exec.Command("docker", "rm", "-f", cid).Run()
	var base []time.Duration
	for range 20 {
		t0 := time.Now()
		exec.Command("docker", "exec", cid, "sh", "-c", "test -d /root/work").Run()
		base = append(base, time.Since(t0))
	}
	p50, b50 := percentile(ds, 0.5), percentile(base, 0.5)
	report(figure{"check round trip p50 (POST .../check)", fmt.Sprintf("%s (p99 %s)", ms(p50), ms(percentile(ds, 0.99))),
		"docker exec " + ms(b50), fmt.Sprintf("%.2f", float64(p50)/float64(b50)), "p50 ≤ 150 ms"})
	return nil
}

func manyAtOnce(l *labd) error {
	fmt.Printf("%d one-node sessions at once:\n", *crowd)
	var peak atomic.Int64
	stop := make(chan struct{})
	go func() {
		for {
			if r := int64(l.rss()); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	t0 := time.Now()
	out := l.startMany(*crowd, "linux-basics")
	all := time.Since(t0)
	close(stop)
	ready := 0
	for _, o := range out {
		if o.err == nil {
			ready++
		} else {
			fmt.Println("  ", o.err)
		}
	}
	report(figure{fmt.Sprintf("%d sessions at once: ready", *crowd), fmt.Sprintf("%d in %.1f s", ready, all.Seconds()),
		"", "", "all ready"})
	report(figure{"labd peak RSS during that", fmt.Sprintf("%d MB", peak.Load()), "", "", "≤ 150 MB"})
	l.endAll(out)
	return nil
}

func leaks(l *labd, cli *client.Client) error {
	fmt.Printf("%d create/destroy cycles:\n", *cycles)
	time.Sleep(time.Second)
	before, err := l.metric("go_goroutines")
	if err != nil {
		return err
	}
	t0 := time.Now()
	var failures atomic.Int64
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 4 {
		wg.Go(func() {
			for next.Add(1) <= int64(*cycles) {
				tok := l.user()
				s, _, err := l.start(tok, "linux-basics")
				if err == nil {
					err = l.end(tok, s.ID)
				}
				if err != nil {
					failures.Add(1)
					fmt.Println("  ", err)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(t0)
	time.Sleep(2 * time.Second) // let idle connections and timers settle
	after, err := l.metric("go_goroutines")
	if err != nil {
		return err
	}
	ctx := context.Background()
	f := filters.NewArgs(filters.Arg("label", "academy.instance="+l.instance))
	cs, _ := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	ns, _ := cli.NetworkList(ctx, network.ListOptions{Filters: f})
	vs, _ := cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	bridges := 0
	if links, err := netlink.LinkList(); err == nil {
		for _, link := range links {
			if strings.HasPrefix(link.Attrs().Alias, "academy/"+l.instance+"/") {
				bridges++
			}
		}
	}
	report(figure{fmt.Sprintf("%d cycles (4 at a time)", *cycles), fmt.Sprintf("%.1f s, %d failed", took.Seconds(), failures.Load()), "", "", "0 failed"})
	report(figure{"left: containers/networks/volumes/bridges", fmt.Sprintf("%d/%d/%d/%d", len(cs), len(ns), len(vs.Volumes), bridges), "", "", "0/0/0/0"})
	report(figure{"labd goroutines before → after", fmt.Sprintf("%.0f → %.0f", before, after), "", "", "back where it started"})
	return nil
}

func warmStarts(l *labd) error {
	fmt.Println("warm-pool starts:")
	waitPool := func() error {
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			if n, err := l.metric(`labd_warm_pool_ready{lab="linux-basics"}`); err == nil && n >= 2 {
				return nil
			}
			time.Sleep(20 * time.Millisecond)
		}
		return fmt.Errorf("the warm pool did not fill")
	}
	var ds []time.Duration
	for range *warmRuns {
		if err := waitPool(); err != nil {
			return err
		}
		tok := l.user()
		s, d, err := l.start(tok, "linux-basics")
		if err != nil {
			return err
		}
		ds = append(ds, d)
		l.end(tok, s.ID)
	}
	report(figure{"warm-pool start p50 / p99 (POST until ready)", fmt.Sprintf("%s / %s", ms(percentile(ds, 0.5)), ms(percentile(ds, 0.99))),
		"", "", "p50 ≤ 50 ms, p99 ≤ 150 ms"})
	return nil
}

// removeInstance removes every session an instance left on the daemon.
func removeInstance(instance string) {
	rt, err := docker.New(instance, "10.213.0.0/24")
	if err != nil {
		return
	}
	defer rt.Close()
	ctx := context.Background()
	ids, _ := rt.Sessions(ctx)
	for _, id := range ids {
		rt.Destroy(ctx, id)
	}
}

// dockerEcho measures keystroke echo through labd to a shell in a lab node
// (docker exec on a TTY).
func dockerEcho(l *labd) error {
	fmt.Println("terminal on Docker:")
	tok := l.user()
	s, _, err := l.start(tok, "linux-basics")
	if err != nil {
		return err
	}
	defer l.end(tok, s.ID)
	t, err := l.openTerm(tok, s.ID, "node1")
	if err != nil {
		return err
	}
	defer t.r.Close()
	time.Sleep(500 * time.Millisecond)
	ds, err := t.echoes(1000)
	if err != nil {
		return err
	}
	report(figure{"keystroke echo via labd, docker exec: p50 / p99", fmt.Sprintf("%s / %s", us(percentile(ds, .5)), us(percentile(ds, .99))),
		"", "", "report"})

	// yes, then Ctrl-C: how long output goes on after the key.
	var stops []time.Duration
	for range 5 {
		t.r.Send(terminal.Input([]byte{21}))
		t.r.Send(terminal.Input([]byte("yes\r")))
		time.Sleep(300 * time.Millisecond)
		t.mu.Lock()
		prompts := t.keys['#']
		t.mu.Unlock()
		at := time.Now()
		t.r.Send(terminal.Input([]byte{3}))
		if err := t.waitFor('#', prompts); err != nil {
			return fmt.Errorf("no prompt after Ctrl-C: %w", err)
		}
		t.mu.Lock()
		stops = append(stops, max(0, t.lastY.Sub(at)))
		t.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
	report(figure{"yes, then Ctrl-C: output stops after (worst of 5)", ms(slices.Max(stops)), "", "", "≤ 250 ms"})
	return nil
}

// started is a session the bench started, with its owner's token.
type started struct {
	tok string
	s   session
	err error
}

// startMany starts n sessions of labID at once, each for a new trainee, and
// waits until every one is ready or failed.
func (l *labd) startMany(n int, labID string) []started {
	out := make([]started, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			tok := l.user()
			s, _, err := l.start(tok, labID)
			out[i] = started{tok, s, err}
		})
	}
	wg.Wait()
	return out
}

// endAll ends the sessions that started.
func (l *labd) endAll(out []started) {
	var wg sync.WaitGroup
	for _, o := range out {
		if o.err == nil {
			wg.Go(func() { l.end(o.tok, o.s.ID) })
		}
	}
	wg.Wait()
}

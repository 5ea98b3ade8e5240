package docker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
	"github.com/vishvananda/netlink"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// newTestRuntime connects to the real daemon; `make test` starts one. Only
// `go test -short` skips these tests.
func newTestRuntime(t *testing.T) *Runtime {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a Docker daemon (run without -short)")
	}
	instance := fmt.Sprintf("test-%d", time.Now().UnixNano())
	r, err := New(instance, "10.213.0.0/24")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Ping(ctx); err != nil {
		t.Fatalf("no Docker daemon answers: run `make docker` first (%v)", err)
	}
	if _, err := r.cli.ImageInspect(ctx, "academy/tiny"); err != nil {
		t.Fatalf("image academy/tiny is missing: run `make images` (%v)", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// leftovers counts the containers, bridges and volumes the runtime's instance
// (or one session of it) still has.
func leftovers(t *testing.T, r *Runtime, session string) int {
	t.Helper()
	ctx := context.Background()
	f := filters.NewArgs(filters.Arg("label", LabelInstance+"="+r.instance))
	if session != "" {
		f.Add("label", LabelSession+"="+session)
	}
	cs, err := r.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := r.cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	bridges, err := r.bridgeSessions()
	if err != nil {
		t.Fatal(err)
	}
	if session != "" && !slices.Contains(bridges, session) {
		bridges = nil
	}
	return len(cs) + len(bridges) + len(vs.Volumes)
}

func run(t *testing.T, r *Runtime, session, node, script string) lab.Result {
	t.Helper()
	res, err := r.Exec(context.Background(), session, node, lab.Command{Script: script, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("exec %q on %s: %v", script, node, err)
	}
	return res
}

func TestRuntimeEnvironment(t *testing.T) {
	r := newTestRuntime(t)
	ctx := context.Background()
	spec := lab.EnvSpec{Session: "rt" + fmt.Sprint(time.Now().UnixNano()%1e9), Lab: "demo", Owner: "alice", Nodes: []lab.Node{
		{Name: "node1", Image: "academy/tiny", Memory: 64 << 20, CPUs: 0.5, Pids: 64},
		{Name: "node2", Image: "academy/tiny", Memory: 48 << 20, CPUs: 0.25, Pids: 32, Volumes: []string{"/data"}},
	}}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go r.Watch(wctx, func(msg string, args ...any) { t.Log(append([]any{msg}, args...)...) })
	env, err := r.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Destroy(context.Background(), spec.Session) })
	if len(env.Nodes) != 2 || env.Nodes[0].Address == env.Nodes[1].Address || env.Nodes[0].Container == "" {
		t.Fatalf("env = %+v", env)
	}

	t.Run("locked down", func(t *testing.T) {
		for i, n := range spec.Nodes {
			c, err := r.cli.ContainerInspect(ctx, env.Nodes[i].Container)
			if err != nil {
				t.Fatal(err)
			}
			h := c.HostConfig
			if h.Privileged || !slices.Contains(h.SecurityOpt, "no-new-privileges") || h.Init == nil || !*h.Init {
				t.Errorf("%s: privileged=%v securityopt=%v init=%v", n.Name, h.Privileged, h.SecurityOpt, h.Init)
			}
			if h.Memory != int64(n.Memory) || h.MemorySwap != int64(n.Memory) || h.NanoCPUs != int64(n.CPUs*1e9) || *h.PidsLimit != n.Pids {
				t.Errorf("%s: memory %d swap %d cpus %d pids %d", n.Name, h.Memory, h.MemorySwap, h.NanoCPUs, *h.PidsLimit)
			}
			if len(h.Binds) != 0 {
				t.Errorf("%s: host binds %v", n.Name, h.Binds)
			}
			for _, m := range c.Mounts {
				if m.Type != "volume" || strings.Contains(m.Source, "docker.sock") {
					t.Errorf("%s: mount %+v", n.Name, m)
				}
			}
			l := c.Config.Labels
			if l[LabelSession] != spec.Session || l[LabelLab] != "demo" || l[LabelNode] != n.Name || l[LabelOwner] != "alice" {
				t.Errorf("%s: labels %v", n.Name, l)
			}
		}
		// No route out: look at the route table, never send traffic out.
		res := run(t, r, spec.Session, "node1", "ip route; ip -o link")
		routes := string(res.Output)
		if strings.Contains(routes, "default") || !strings.Contains(routes, "10.213.0.0/24 dev eth0") {
			t.Errorf("node1 routes:\n%s", routes)
		}
		// The bridge has no address on the host: the host is not a neighbour.
		br, err := netlink.LinkByName(bridgeName(spec.Session))
		if err != nil {
			t.Fatal(err)
		}
		if addrs, _ := netlink.AddrList(br, netlink.FAMILY_ALL); len(addrs) != 0 {
			t.Errorf("the session bridge has host addresses: %v", addrs)
		}
		if c, _ := r.cli.ContainerInspect(ctx, env.Nodes[0].Container); !c.Config.NetworkDisabled {
			t.Error("Docker networking is on")
		}
		res = run(t, r, spec.Session, "node1", "cat /proc/1/status | grep CapEff; ls /var/run/docker.sock 2>&1")
		if !strings.Contains(string(res.Output), "No such file") {
			t.Errorf("docker socket visible:\n%s", res.Output)
		}
	})

	t.Run("exec", func(t *testing.T) {
		res := run(t, r, spec.Session, "node1", "echo out; echo FAIL: nope >&2; exit 3")
		if res.ExitCode != 3 || !strings.Contains(string(res.Output), "out\n") || !strings.Contains(string(res.Output), "FAIL: nope") {
			t.Errorf("exec = %d %q", res.ExitCode, res.Output)
		}
		res = run(t, r, spec.Session, "node1", "#!/bin/sh\necho $LAB_NODE $0")
		if got := strings.TrimSpace(string(res.Output)); got != "node1 node1" {
			t.Errorf("env/argv0 = %q", got)
		}
		// Nodes reach each other by name.
		res = run(t, r, spec.Session, "node1", "ping -c 1 -W 2 node2")
		if res.ExitCode != 0 {
			t.Errorf("node1 cannot ping node2: %s", res.Output)
		}
		// Output is bounded.
		big, err := r.Exec(ctx, spec.Session, "node1", lab.Command{Script: "yes | head -c 100000", MaxOutput: 1000})
		if err != nil || len(big.Output) != 1000 {
			t.Errorf("bounded output: %d bytes, %v", len(big.Output), err)
		}
	})

	t.Run("copy", func(t *testing.T) {
		run(t, r, spec.Session, "node1", "mkdir -p /tmp/cfg && echo v1 > /tmp/cfg/a && echo v2 > /tmp/cfg/b")
		if err := r.Copy(ctx, spec.Session, "node1", "/tmp/cfg", []string{"node2"}); err != nil {
			t.Fatal(err)
		}
		if res := run(t, r, spec.Session, "node2", "cat /tmp/cfg/a /tmp/cfg/b"); string(res.Output) != "v1\nv2\n" {
			t.Errorf("copied: %q", res.Output)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		res, err := r.Exec(ctx, spec.Session, "node1", lab.Command{Script: "sleep 30", Timeout: time.Second})
		if err != nil || !res.TimedOut {
			t.Errorf("timed out = %v, %v (exit %d)", res.TimedOut, err, res.ExitCode)
		}
		if d := time.Since(start); d > 8*time.Second {
			t.Errorf("a 1s timeout took %s", d)
		}
		res = run(t, r, spec.Session, "node1", "ps | grep -c '[s]leep 30'")
		if strings.TrimSpace(string(res.Output)) != "0" {
			t.Errorf("the timed-out command still runs: %s", res.Output)
		}
	})

	t.Run("address survives restart", func(t *testing.T) {
		run(t, r, spec.Session, "node2", "echo kept > /data/file")
		timeout := 1
		if err := r.cli.ContainerRestart(ctx, env.Nodes[1].Container, container.StopOptions{Timeout: &timeout}); err != nil {
			t.Fatal(err)
		}
		// Watch wires the restarted node again, at the same address.
		deadline := time.Now().Add(10 * time.Second)
		for {
			res := run(t, r, spec.Session, "node1", "ping -c 1 -W 1 node2")
			if res.ExitCode == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node2 unreachable after its restart: %s", res.Output)
			}
			time.Sleep(50 * time.Millisecond)
		}
		res := run(t, r, spec.Session, "node2", "ip -4 -o addr show eth0")
		if !strings.Contains(string(res.Output), " "+env.Nodes[1].Address+"/24") {
			t.Errorf("node2 address after restart: %s, want %s", res.Output, env.Nodes[1].Address)
		}
		if res := run(t, r, spec.Session, "node2", "cat /data/file"); strings.TrimSpace(string(res.Output)) != "kept" {
			t.Errorf("volume content after restart: %q", res.Output)
		}
	})

	t.Run("sessions and destroy", func(t *testing.T) {
		ids, err := r.Sessions(ctx)
		if err != nil || !slices.Contains(ids, spec.Session) {
			t.Fatalf("Sessions = %v, %v", ids, err)
		}
		other, _ := New(r.instance+"-other", "10.213.0.0/24")
		if ids, _ := other.Sessions(ctx); slices.Contains(ids, spec.Session) {
			t.Error("another instance sees this instance's session")
		}
		if err := r.Destroy(ctx, spec.Session); err != nil {
			t.Fatal(err)
		}
		if n := leftovers(t, r, spec.Session); n != 0 {
			t.Errorf("%d containers, networks or volumes left", n)
		}
		if err := r.Destroy(ctx, spec.Session); err != nil {
			t.Errorf("destroying twice: %v", err)
		}
		if _, err := r.Exec(ctx, spec.Session, "node1", lab.Command{Script: "true"}); err == nil ||
			!strings.Contains(err.Error(), "node1 does not exist") {
			t.Errorf("exec on destroyed node: %v", err)
		}
	})
}

func TestRuntimeCreateFailureLeavesNothing(t *testing.T) {
	r := newTestRuntime(t)
	ctx := context.Background()
	spec := lab.EnvSpec{Session: "bad" + fmt.Sprint(time.Now().UnixNano()%1e9), Lab: "demo", Nodes: []lab.Node{
		{Name: "node1", Image: "academy/tiny", Memory: 64 << 20, CPUs: 1, Pids: 64, Volumes: []string{"/data"}},
		{Name: "node2", Image: "academy/does-not-exist", Memory: 64 << 20, CPUs: 1, Pids: 64},
	}}
	_, err := r.Create(ctx, spec)
	if err == nil || !strings.Contains(err.Error(), "make images") {
		t.Fatalf("err = %v, want a missing image named", err)
	}
	if n := leftovers(t, r, spec.Session); n != 0 {
		t.Errorf("%d containers, networks or volumes left after a failed create", n)
	}
}

package docker

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

func TestParseAddresses(t *testing.T) {
	for _, tc := range []struct {
		label, want, err string
	}{
		{"", "", ""},
		{"172.30.1.2/16", "172.30.1.2/16", ""},
		{"172.30.1.2/16,10.9.0.5/24", "172.30.1.2/16 10.9.0.5/24", ""},
		{"172.30.1.2", "", "want an IPv4 CIDR"},
		{"fd00::1/64", "", "want an IPv4 CIDR"},
	} {
		got, err := parseAddresses(tc.label)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.label, err, tc.err)
			}
			continue
		}
		var s []string
		for _, a := range got {
			ones, _ := a.Mask.Size()
			s = append(s, fmt.Sprintf("%s/%d", a.IP, ones))
		}
		if err != nil || strings.Join(s, " ") != tc.want {
			t.Errorf("%q: %v %v, want %s", tc.label, s, err, tc.want)
		}
	}
}

// TestExtraAddresses: nodes with extra addresses (Killercoda's fixed host
// addresses) reach each other at them, also after a node restarts.
func TestExtraAddresses(t *testing.T) {
	r := newTestRuntime(t)
	ctx := context.Background()
	spec := lab.EnvSpec{Session: "ad" + fmt.Sprint(time.Now().UnixNano()%1e9), Lab: "demo", Owner: "alice", Nodes: []lab.Node{
		{Name: "host1", Image: "academy/tiny", Memory: 32 << 20, CPUs: 0.2, Pids: 32, Addresses: []string{"172.30.1.2/16"}},
		{Name: "host2", Image: "academy/tiny", Memory: 32 << 20, CPUs: 0.2, Pids: 32, Addresses: []string{"172.30.2.2/16"}},
	}}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go r.Watch(wctx, func(msg string, args ...any) { t.Log(append([]any{msg}, args...)...) })
	env, err := r.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Destroy(context.Background(), spec.Session) })
	res := run(t, r, spec.Session, "host1", "ip -4 -o addr show eth0")
	if out := string(res.Output); !strings.Contains(out, "172.30.1.2/16") || !strings.Contains(out, env.Nodes[0].Address+"/24") {
		t.Fatalf("host1 eth0:\n%s", out)
	}
	if res := run(t, r, spec.Session, "host2", "ping -c 1 -W 2 172.30.1.2"); res.ExitCode != 0 {
		t.Fatalf("host2 cannot reach host1 at 172.30.1.2: %s", res.Output)
	}
	timeout := 1
	if err := r.cli.ContainerRestart(ctx, env.Nodes[0].Container, container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	// Watch wires the restarted node again, with its extra address.
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := run(t, r, spec.Session, "host2", "ping -c 1 -W 1 172.30.1.2")
		if res.ExitCode == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a restart host1 is not at 172.30.1.2: %s", res.Output)
		}
	}
}

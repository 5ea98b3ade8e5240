// Package docker runs lab environments on the Docker Engine API: one internal
// network per lab session with fixed node addresses, and one locked-down
// container per node.
package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// Labels on everything the runtime creates.
const (
	LabelSession = "academy.session"
	LabelLab     = "academy.lab"
	LabelNode    = "academy.node"
	LabelOwner   = "academy.owner"
	// LabelInstance names the labd that owns a resource, so labds (or test
	// runs) sharing one daemon never adopt or remove each other's sessions.
	LabelInstance = "academy.instance"
)

var _ lab.Runtime = (*Runtime)(nil)

// Runtime is a lab.Runtime on a Docker daemon.
type Runtime struct {
	cli      *client.Client
	instance string
	// pool is the address range session networks are cut from, one /26 each.
	pool netip.Prefix

	mu      sync.Mutex
	subnets map[netip.Prefix]string // subnet -> session, for the ones in use
	loaded  bool
}

// New connects to the daemon named by the environment (DOCKER_HOST, or the
// local socket), negotiating the API version. instance names this labd on
// the daemon; session networks are cut from pool (a /16 to /24 such as
// 10.213.0.0/16).
func New(instance, pool string) (*Runtime, error) {
	if instance == "" {
		return nil, errors.New("docker runtime: empty instance name")
	}
	p, err := netip.ParsePrefix(pool)
	if err != nil || !p.Addr().Is4() || p.Bits() > 24 {
		return nil, fmt.Errorf("subnet pool %q: want an IPv4 prefix of /24 or wider", pool)
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return &Runtime{cli: cli, instance: instance, pool: p.Masked(), subnets: map[netip.Prefix]string{}}, nil
}

// Close closes the client.
func (r *Runtime) Close() error { return r.cli.Close() }

// Ping reports whether the daemon answers.
func (r *Runtime) Ping(ctx context.Context) error {
	_, err := r.cli.Ping(ctx)
	return err
}

// Client is the underlying Docker client (for tests and tools).
func (r *Runtime) Client() *client.Client { return r.cli }

func networkName(session string) string { return "academy-" + session }

func containerName(session, node string) string { return "academy-" + session + "-" + node }

func (r *Runtime) labels(spec lab.EnvSpec, node string) map[string]string {
	l := map[string]string{LabelInstance: r.instance, LabelSession: spec.Session, LabelLab: spec.Lab, LabelOwner: spec.Owner}
	if node != "" {
		l[LabelNode] = node
	}
	return l
}

// Create makes the session network, its volumes and its containers, and
// starts them; nodes are created and started in parallel. On error it
// removes what it made.
func (r *Runtime) Create(ctx context.Context, spec lab.EnvSpec) (env lab.Env, err error) {
	defer func() {
		if err != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if derr := r.Destroy(cctx, spec.Session); derr != nil {
				err = errors.Join(err, fmt.Errorf("clean up: %w", derr))
			}
		}
	}()
	subnet, err := r.createNetwork(ctx, spec)
	if err != nil {
		return lab.Env{}, err
	}
	env = lab.Env{Session: spec.Session, Nodes: make([]lab.NodeAddr, len(spec.Nodes))}
	addr := subnet.Addr().Next() // .1 is the bridge's
	for i, n := range spec.Nodes {
		addr = addr.Next()
		env.Nodes[i] = lab.NodeAddr{Name: n.Name, Address: addr.String()}
	}
	errs := make([]error, len(spec.Nodes))
	var wg sync.WaitGroup
	for i, n := range spec.Nodes {
		wg.Go(func() {
			id, err := r.createNode(ctx, spec, n, env.Nodes[i].Address)
			if err == nil {
				err = r.cli.ContainerStart(ctx, id, container.StartOptions{})
				if err != nil {
					err = fmt.Errorf("start node %s: %w", n.Name, err)
				}
			}
			if err == nil {
				err = r.isolate(ctx, id, n.Name)
			}
			env.Nodes[i].Container = id
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return lab.Env{}, err
	}
	return env, nil
}

// createNetwork makes the session's internal network on a free /26 of the
// pool. Fixed addresses need a subnet of our own; Docker refuses one that
// overlaps another network, and then the next is tried.
func (r *Runtime) createNetwork(ctx context.Context, spec lab.EnvSpec) (netip.Prefix, error) {
	if err := r.loadSubnets(ctx); err != nil {
		return netip.Prefix{}, err
	}
	for range 64 {
		subnet, ok := r.reserveSubnet(spec.Session)
		if !ok {
			return netip.Prefix{}, fmt.Errorf("no free subnet left in %s", r.pool)
		}
		_, err := r.cli.NetworkCreate(ctx, networkName(spec.Session), network.CreateOptions{
			Driver:   "bridge",
			Internal: true, // no route out of the lab
			Labels:   r.labels(spec, ""),
			IPAM: &network.IPAM{Config: []network.IPAMConfig{{
				Subnet: subnet.String(),
			}}},
		})
		if err == nil {
			return subnet, nil
		}
		if strings.Contains(err.Error(), "overlap") {
			// Taken by a network that is not ours: keep it marked, try the next.
			r.mu.Lock()
			r.subnets[subnet] = "(foreign)"
			r.mu.Unlock()
			continue
		}
		r.releaseSubnet(spec.Session)
		return netip.Prefix{}, fmt.Errorf("create network: %w", err)
	}
	return netip.Prefix{}, errors.New("create network: every subnet tried overlaps another network")
}

// loadSubnets learns, once, which subnets existing session networks hold.
func (r *Runtime) loadSubnets(ctx context.Context) error {
	r.mu.Lock()
	loaded := r.loaded
	r.mu.Unlock()
	if loaded {
		return nil
	}
	nets, err := r.cli.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return fmt.Errorf("list networks: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range nets {
		for _, c := range n.IPAM.Config {
			p, err := netip.ParsePrefix(c.Subnet)
			if err != nil || !p.Addr().Is4() || !r.pool.Overlaps(p) {
				continue
			}
			owner := n.Labels[LabelSession]
			if owner == "" {
				owner = "(foreign)"
			}
			if p.Bits() < 26 { // a wide foreign network blocks every /26 inside it
				for q := range subnetsIn(r.pool) {
					if p.Overlaps(q) {
						r.subnets[q] = owner
					}
				}
				continue
			}
			r.subnets[netip.PrefixFrom(p.Addr(), 26).Masked()] = owner
		}
	}
	r.loaded = true
	return nil
}

func subnetsIn(pool netip.Prefix) func(func(netip.Prefix) bool) {
	return func(yield func(netip.Prefix) bool) {
		n := 1 << (26 - pool.Bits())
		base := pool.Addr().As4()
		start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
		for i := range n {
			v := start + uint32(i)<<6
			a := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
			if !yield(netip.PrefixFrom(a, 26)) {
				return
			}
		}
	}
}

func (r *Runtime) reserveSubnet(session string) (netip.Prefix, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for p := range subnetsIn(r.pool) {
		if _, used := r.subnets[p]; !used {
			r.subnets[p] = session
			return p, true
		}
	}
	return netip.Prefix{}, false
}

func (r *Runtime) releaseSubnet(session string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for p, s := range r.subnets {
		if s == session {
			delete(r.subnets, p)
		}
	}
}

// isolate removes the default route that Docker gives even an internal
// network's containers. Docker already drops traffic leaving an internal
// bridge; without the route, nothing in the node even tries to leave. The
// node itself has no NET_ADMIN (and no-new-privileges forbids a privileged
// exec), so labd, root on the Docker host, enters the node's network and
// mount namespaces with nsenter and runs the node's own ip command. Watch
// repeats this when a node restarts: a restart brings the route back.
func (r *Runtime) isolate(ctx context.Context, id, node string) error {
	c, err := r.cli.ContainerInspect(ctx, id)
	if err != nil {
		return fmt.Errorf("isolate node %s: %w", node, err)
	}
	if c.State == nil || c.State.Pid == 0 {
		return fmt.Errorf("isolate node %s: it is not running", node)
	}
	cmd := exec.CommandContext(ctx, "nsenter", "--target", strconv.Itoa(c.State.Pid), "--net", "--mount", "--",
		"ip", "route", "del", "default")
	out, err := cmd.CombinedOutput()
	// "No such process": the route is already gone.
	if err != nil && !strings.Contains(string(out), "No such process") {
		return fmt.Errorf("isolate node %s: ip route del default in its network namespace: %v: %s "+
			"(labd must run as root on the Docker host; lab images need the ip command)",
			node, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Watch follows the daemon's events until ctx ends and isolates every node
// of this instance that (re)starts outside Create: a restart brings the
// default route back.
func (r *Runtime) Watch(ctx context.Context, log func(msg string, args ...any)) {
	for ctx.Err() == nil {
		f := filters.NewArgs(
			filters.Arg("type", "container"), filters.Arg("event", "start"),
			filters.Arg("label", LabelInstance+"="+r.instance),
		)
		msgs, errs := r.cli.Events(ctx, events.ListOptions{Filters: f})
	loop:
		for {
			select {
			case m := <-msgs:
				node := m.Actor.Attributes[LabelNode]
				go func() {
					if err := r.isolate(ctx, m.Actor.ID, node); err != nil && ctx.Err() == nil {
						log("isolate restarted node", "node", node, "err", err)
					}
				}()
			case err := <-errs:
				if ctx.Err() == nil {
					log("docker events", "err", err)
				}
				break loop
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// nodeCommand keeps a node running; tini (--init) reaps the zombies that
// exec'd processes leave, and forwards SIGTERM so a stop is quick.
var nodeCommand = []string{"sleep", "2147483647"}

func (r *Runtime) createNode(ctx context.Context, spec lab.EnvSpec, n lab.Node, addr string) (string, error) {
	var mounts []mount.Mount
	for i, path := range n.Volumes {
		name := fmt.Sprintf("%s-%d", containerName(spec.Session, n.Name), i)
		if _, err := r.cli.VolumeCreate(ctx, volume.CreateOptions{Name: name, Labels: r.labels(spec, n.Name)}); err != nil {
			return "", fmt.Errorf("create volume for %s:%s: %w", n.Name, path, err)
		}
		mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: name, Target: path})
	}
	init := true
	pids := n.Pids
	mem := int64(n.Memory)
	resp, err := r.cli.ContainerCreate(ctx,
		&container.Config{
			Hostname:   n.Name,
			Image:      n.Image,
			Cmd:        nodeCommand,
			Labels:     r.labels(spec, n.Name),
			WorkingDir: "/root",
		},
		&container.HostConfig{
			Init:          &init,
			NetworkMode:   container.NetworkMode(networkName(spec.Session)),
			RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
			SecurityOpt:   []string{"no-new-privileges"},
			// Default capabilities minus the ones a lab has no use for.
			CapDrop: []string{"MKNOD", "AUDIT_WRITE", "SETFCAP"},
			Mounts:  mounts,
			LogConfig: container.LogConfig{Type: "json-file", Config: map[string]string{
				"max-size": "1m", "max-file": "1",
			}},
			Resources: container.Resources{
				Memory:     mem,
				MemorySwap: mem, // no swap beyond the limit
				NanoCPUs:   int64(n.CPUs * 1e9),
				PidsLimit:  &pids,
			},
		},
		&network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			networkName(spec.Session): {
				IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: addr},
				Aliases:    []string{n.Name},
			},
		}},
		nil, containerName(spec.Session, n.Name))
	if err != nil {
		if client.IsErrNotFound(err) {
			return "", fmt.Errorf("node %s: image %s is not on this machine (run make images)", n.Name, n.Image)
		}
		return "", fmt.Errorf("create node %s: %w", n.Name, err)
	}
	return resp.ID, nil
}

// Exec runs cmd in a node and waits for it. A coreutils or busybox `timeout`
// in the node kills the whole command when it runs too long (the Engine has
// no API to kill an exec); the connection is dropped a little later still,
// in case the node has no `timeout` or does not answer.
func (r *Runtime) Exec(ctx context.Context, session, node string, cmd lab.Command) (lab.Result, error) {
	start := time.Now()
	if cmd.Timeout <= 0 {
		cmd.Timeout = lab.DefaultCheckTimeout
	}
	secs := strconv.Itoa(int((cmd.Timeout + time.Second - 1) / time.Second))
	argv := append([]string{"timeout", "-s", "KILL", secs}, interpreter(cmd.Script)...)
	argv = append(argv, "-c", cmd.Script, node)

	created, err := r.cli.ContainerExecCreate(ctx, containerName(session, node), container.ExecOptions{
		Cmd: argv, AttachStdout: true, AttachStderr: true, WorkingDir: "/root",
		Env: []string{"LAB_SESSION=" + session, "LAB_NODE=" + node},
	})
	if err != nil {
		return lab.Result{}, describe(node, err)
	}
	ctx, cancel := context.WithTimeout(ctx, cmd.Timeout+5*time.Second)
	defer cancel()
	att, err := r.cli.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return lab.Result{}, describe(node, err)
	}
	defer att.Close()
	// Closing the connection is the only way to stop waiting on it.
	stop := context.AfterFunc(ctx, func() { att.Close() })
	defer stop()

	max := cmd.MaxOutput
	if max <= 0 {
		max = 64 << 10
	}
	out := &limitedBuffer{max: max}
	_, copyErr := stdcopy.StdCopy(out, out, att.Reader)
	res := lab.Result{Output: out.Bytes(), Duration: time.Since(start)}
	if ctx.Err() != nil {
		res.TimedOut = true
		res.ExitCode = -1
		return res, nil
	}
	if copyErr != nil && !errors.Is(copyErr, io.EOF) {
		return res, fmt.Errorf("read output of %s: %w", node, copyErr)
	}
	// The exit code is final only after the output has ended.
	insp, err := r.cli.ContainerExecInspect(ctx, created.ID)
	if err != nil {
		return res, describe(node, err)
	}
	res.ExitCode = insp.ExitCode
	// timeout(1) exits 124, or 128+9 when the command had to be killed.
	if insp.ExitCode == 137 && res.Duration >= cmd.Timeout {
		res.TimedOut = true
	}
	res.Duration = time.Since(start)
	return res, nil
}

// interpreter returns the program a script's #! line names, or /bin/sh.
func interpreter(script string) []string {
	line, _, _ := strings.Cut(script, "\n")
	if rest, ok := strings.CutPrefix(line, "#!"); ok {
		if f := strings.Fields(rest); len(f) > 0 {
			return f
		}
	}
	return []string{"/bin/sh"}
}

func describe(node string, err error) error {
	msg := err.Error()
	switch {
	case client.IsErrNotFound(err):
		return fmt.Errorf("node %s does not exist", node)
	case strings.Contains(msg, "is not running"), strings.Contains(msg, "is restarting"):
		return fmt.Errorf("node %s is not running", node)
	}
	return fmt.Errorf("node %s: %w", node, err)
}

// limitedBuffer keeps the first max bytes written and drops the rest.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// Destroy removes a session's containers (with their anonymous volumes), its
// network and its volumes.
func (r *Runtime) Destroy(ctx context.Context, session string) error {
	f := filters.NewArgs(filters.Arg("label", LabelInstance+"="+r.instance), filters.Arg("label", LabelSession+"="+session))
	cs, err := r.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			err := r.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
			if err != nil && !client.IsErrNotFound(err) && !strings.Contains(err.Error(), "already in progress") {
				errs[i] = fmt.Errorf("remove container %s: %w", c.ID[:12], err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	nets, err := r.cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return fmt.Errorf("list networks: %w", err)
	}
	for _, n := range nets {
		if err := r.cli.NetworkRemove(ctx, n.ID); err != nil && !client.IsErrNotFound(err) {
			return fmt.Errorf("remove network %s: %w", n.Name, err)
		}
	}
	r.releaseSubnet(session)
	vols, err := r.cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return fmt.Errorf("list volumes: %w", err)
	}
	for _, v := range vols.Volumes {
		if err := r.cli.VolumeRemove(ctx, v.Name, true); err != nil && !client.IsErrNotFound(err) {
			return fmt.Errorf("remove volume %s: %w", v.Name, err)
		}
	}
	return nil
}

// Sessions lists every session id found on a container, network or volume.
func (r *Runtime) Sessions(ctx context.Context) ([]string, error) {
	f := filters.NewArgs(filters.Arg("label", LabelInstance+"="+r.instance), filters.Arg("label", LabelSession))
	seen := map[string]bool{}
	var ids []string
	add := func(l map[string]string) {
		if id := l[LabelSession]; id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	cs, err := r.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	for _, c := range cs {
		add(c.Labels)
	}
	nets, err := r.cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	for _, n := range nets {
		add(n.Labels)
	}
	vols, err := r.cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	for _, v := range vols.Volumes {
		add(v.Labels)
	}
	return ids, nil
}

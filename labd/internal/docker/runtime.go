// Package docker runs lab environments on the Docker Engine API: one
// locked-down container per node, wired by labd to a bridge of the
// session's own with fixed node addresses (network.go says why).
package docker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	pathpkg "path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
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
	// LabelOwner is the user the environment was made for; empty on a
	// warm-pool environment, and it stays empty after a trainee claims it
	// (labels cannot change on a container): labd's database is the owner
	// of record. LabelPool marks environments made for a warm pool.
	LabelOwner = "academy.owner"
	LabelPool  = "academy.pool"
	// LabelAddress is the node's address on the session's bridge.
	LabelAddress = "academy.address"
	// LabelInstance names the labd that owns a resource, so labds (or test
	// runs) sharing one daemon never adopt or remove each other's sessions.
	LabelInstance = "academy.instance"
)

var _ lab.Runtime = (*Runtime)(nil)

// Runtime is a lab.Runtime on a Docker daemon.
type Runtime struct {
	cli      *client.Client
	instance string
	subnet   netip.Prefix // node addresses: .2, .3, ... in every session

	allowOnce sync.Once
	allowErr  error
	wiring    sync.Map // session/node -> *sync.Mutex
}

// New connects to the daemon named by the environment (DOCKER_HOST, or the
// local socket), negotiating the API version. instance names this labd on
// the daemon; node addresses are taken from subnet (such as 10.213.0.0/24).
func New(instance, subnet string) (*Runtime, error) {
	if instance == "" {
		return nil, errors.New("docker runtime: empty instance name")
	}
	p, err := netip.ParsePrefix(subnet)
	if err != nil || !p.Addr().Is4() || p.Bits() > 26 || p.Bits() < 8 {
		return nil, fmt.Errorf("lab subnet %q: want an IPv4 prefix from /8 to /26", subnet)
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return &Runtime{cli: cli, instance: instance, subnet: p.Masked()}, nil
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

func containerName(session, node string) string { return "academy-" + session + "-" + node }

func (r *Runtime) labels(spec lab.EnvSpec, node string) map[string]string {
	l := map[string]string{LabelInstance: r.instance, LabelSession: spec.Session, LabelLab: spec.Lab, LabelOwner: spec.Owner}
	if spec.Owner == "" {
		l[LabelPool] = "true"
	}
	if node != "" {
		l[LabelNode] = node
	}
	return l
}

// Deadlines for Engine calls whose caller gave none: a wedged container or
// daemon must not hold labd forever (a forced remove once hung 18 minutes).
const (
	createTimeout  = 5 * time.Minute
	destroyTimeout = 2 * time.Minute
	listTimeout    = 30 * time.Second
)

// bounded is ctx with timeout d, unless it has a deadline already.
func bounded(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// Create makes the session's bridge and its nodes' containers, and starts
// and wires them; nodes are created and started in parallel. On error it
// removes what it made.
func (r *Runtime) Create(ctx context.Context, spec lab.EnvSpec) (env lab.Env, err error) {
	ctx, cancel := bounded(ctx, createTimeout)
	defer cancel()
	defer func() {
		if err != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if derr := r.Destroy(cctx, spec.Session); derr != nil {
				err = errors.Join(err, fmt.Errorf("clean up: %w", derr))
			}
		}
	}()
	if len(spec.Nodes) > lab.MaxNodes {
		return lab.Env{}, fmt.Errorf("at most %d nodes", lab.MaxNodes)
	}
	if err := r.createBridge(spec.Session); err != nil {
		return lab.Env{}, err
	}
	env = lab.Env{Session: spec.Session, Nodes: make([]lab.NodeAddr, len(spec.Nodes))}
	names := make([]string, len(spec.Nodes))
	addrs := make([]string, len(spec.Nodes))
	addr := r.subnet.Addr().Next() // .1 stays free, as a gateway would be
	for i, n := range spec.Nodes {
		addr = addr.Next()
		names[i], addrs[i] = n.Name, addr.String()
		env.Nodes[i] = lab.NodeAddr{Name: n.Name, Address: addrs[i]}
	}
	hosts := hostsFile(names, addrs)
	errs := make([]error, len(spec.Nodes))
	var wg sync.WaitGroup
	for i, n := range spec.Nodes {
		wg.Go(func() {
			env.Nodes[i].Container, errs[i] = r.startNode(ctx, spec, n, addrs[i], hosts)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return lab.Env{}, err
	}
	return env, nil
}

// startNode creates, starts and wires one node and returns its container id.
func (r *Runtime) startNode(ctx context.Context, spec lab.EnvSpec, n lab.Node, addr string, hosts []byte) (string, error) {
	id, err := r.createNode(ctx, spec, n, addr)
	if err != nil {
		return "", err
	}
	if err := r.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return id, fmt.Errorf("start node %s: %w", n.Name, err)
	}
	pid, err := r.wireContainer(ctx, id)
	if err != nil {
		return id, err
	}
	// Written once, before anyone works in the node; it stays across restarts.
	if err := writeHosts(pid, hosts); err != nil {
		return id, fmt.Errorf("hosts file of %s: %w", n.Name, err)
	}
	return id, nil
}

// wireContainer wires a started node, reading where it belongs from its
// labels, and returns the pid of its init process.
func (r *Runtime) wireContainer(ctx context.Context, id string) (int, error) {
	c, err := r.cli.ContainerInspect(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("inspect %s: %w", id, err)
	}
	l := c.Config.Labels
	node := l[LabelNode]
	if c.State == nil || c.State.Pid == 0 {
		return 0, fmt.Errorf("node %s is not running", node)
	}
	ip, err := netip.ParseAddr(l[LabelAddress])
	if err != nil {
		return 0, fmt.Errorf("node %s: bad address label %q", node, l[LabelAddress])
	}
	ipnet := &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(r.subnet.Bits(), 32)}
	extra, err := parseAddresses(l[LabelAddresses])
	if err != nil {
		return 0, fmt.Errorf("node %s: %w", node, err)
	}
	return c.State.Pid, r.wire(c.State.Pid, l[LabelSession], node, ipnet, extra)
}

// Watch follows the daemon's events until ctx ends and wires every node of
// this instance that starts again after a restart (a new start is a new,
// empty network namespace).
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
				go func() {
					if _, err := r.wireContainer(ctx, m.Actor.ID); err != nil && ctx.Err() == nil {
						log("wire restarted node", "container", m.Actor.ID, "err", err)
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
	cmd := n.Command
	if len(cmd) == 0 {
		cmd = lab.DefaultCommand
	}
	pids := n.Pids
	mem := int64(n.Memory)
	labels := r.labels(spec, n.Name)
	labels[LabelAddress] = addr
	labels[LabelAddresses] = addressesLabel(n.Addresses)
	resp, err := r.cli.ContainerCreate(ctx,
		&container.Config{
			Hostname:   n.Name,
			Image:      n.Image,
			Cmd:        cmd,
			Labels:     labels,
			WorkingDir: "/root",
			// labd wires the node to the session's bridge itself.
			NetworkDisabled: true,
		},
		&container.HostConfig{
			Init:          &init,
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
		nil, nil, containerName(spec.Session, n.Name))
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
		Env: append([]string{"LAB_SESSION=" + session, "LAB_NODE=" + node}, cmd.Env...),
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

	out := &lab.Output{Max: cmd.MaxOutput}
	_, copyErr := stdcopy.StdCopy(out, out, att.Reader)
	res := lab.Result{Output: out.Bytes(), Duration: time.Since(start)}
	if ctx.Err() != nil {
		res.TimedOut = true
		res.ExitCode = -1
		res.Cause = r.diagnose(ctx, session, node, res.ExitCode)
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
	exit := insp.ExitCode
	if insp.ExitCode == 137 && res.Duration >= cmd.Timeout {
		res.TimedOut, exit = true, -1
	}
	if res.ExitCode != 0 {
		res.Cause = r.diagnose(ctx, session, node, exit)
	}
	res.Duration = time.Since(start)
	return res, nil
}

// diagnose looks at a node after a command failed or timed out there, for a
// cause the command could not report itself: the node stopped under it, its
// process limit is reached (the Engine cannot even start the command: exit
// 126; or the command hangs, unable to fork), or it is out of memory and the
// command was killed (137, not by the timeout: exit -1). "" when none.
func (r *Runtime) diagnose(ctx context.Context, session, node string, exit int) lab.Cause {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	name := containerName(session, node)
	c, err := r.cli.ContainerInspect(ctx, name)
	if err != nil {
		if client.IsErrNotFound(err) {
			return lab.CauseNotRunning
		}
		return ""
	}
	if c.State == nil || !c.State.Running || c.State.Paused {
		return lab.CauseNotRunning
	}
	st, err := r.cli.ContainerStatsOneShot(ctx, name)
	if err != nil {
		return ""
	}
	defer st.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(io.LimitReader(st.Body, 1<<20)).Decode(&s); err != nil {
		return ""
	}
	return causeFrom(s, c.HostConfig, exit)
}

// causeFrom reads a node's figures after a command failed with exit.
func causeFrom(s container.StatsResponse, h *container.HostConfig, exit int) lab.Cause {
	pidLimit := s.PidsStats.Limit
	if pidLimit == 0 && h != nil && h.PidsLimit != nil && *h.PidsLimit > 0 {
		pidLimit = uint64(*h.PidsLimit)
	}
	// Processes come and go: within 5% (or 2) of the limit is at it.
	if pidLimit > 0 && s.PidsStats.Current+max(2, pidLimit/20) >= pidLimit {
		return lab.CauseNoPIDs
	}
	if exit == 137 { // killed, and not by timeout(1): the caller passes -1 then
		m := s.MemoryStats
		if m.Failcnt > 0 || m.Stats["oom_kill"] > 0 || (m.Limit > 0 && max(m.Usage, m.MaxUsage) >= m.Limit-m.Limit/20) {
			return lab.CauseOOM
		}
		return lab.CauseKilled
	}
	return ""
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
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case client.IsErrNotFound(err):
		return &lab.NodeError{Node: node, Cause: lab.CauseNotRunning, Err: fmt.Errorf("node %s does not exist", node)}
	case strings.Contains(msg, "is not running"), strings.Contains(msg, "is restarting"), strings.Contains(msg, "is paused"):
		return &lab.NodeError{Node: node, Cause: lab.CauseNotRunning, Err: fmt.Errorf("node %s is not running", node)}
	}
	return &lab.NodeError{Node: node, Err: fmt.Errorf("node %s: %w", node, err)}
}

// Destroy removes a session's containers (with their anonymous volumes), its
// bridge and its volumes.
func (r *Runtime) Destroy(ctx context.Context, session string) error {
	ctx, cancel := bounded(ctx, destroyTimeout)
	defer cancel()
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
	if err := deleteBridge(session); err != nil {
		return err
	}
	r.wiring.Range(func(k, _ any) bool {
		if strings.HasPrefix(k.(string), session+"/") {
			r.wiring.Delete(k)
		}
		return true
	})
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

// Sessions lists every session id found on a container, bridge or volume.
func (r *Runtime) Sessions(ctx context.Context) ([]string, error) {
	ctx, cancel := bounded(ctx, listTimeout)
	defer cancel()
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
	bridges, err := r.bridgeSessions()
	if err != nil {
		return nil, err
	}
	for _, id := range bridges {
		add(map[string]string{LabelSession: id})
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

// maxCopy bounds what a setup copy moves between nodes (configuration and keys).
const maxCopy = 64 << 20

// Copy copies path from one node to the same place in others, as a tar
// stream through the Engine.
func (r *Runtime) Copy(ctx context.Context, session, from, path string, to []string) error {
	rc, _, err := r.cli.CopyFromContainer(ctx, containerName(session, from), path)
	if err != nil {
		return describe(from, err)
	}
	data, err := io.ReadAll(io.LimitReader(rc, maxCopy+1))
	rc.Close()
	if err != nil {
		return fmt.Errorf("read %s from %s: %w", path, from, err)
	}
	if len(data) > maxCopy {
		return fmt.Errorf("%s on %s is larger than %d MiB", path, from, maxCopy>>20)
	}
	dir := pathpkg.Dir(path)
	for _, node := range to {
		err := r.cli.CopyToContainer(ctx, containerName(session, node), dir, bytes.NewReader(data), container.CopyToContainerOptions{})
		if err != nil {
			return describe(node, err)
		}
	}
	return nil
}

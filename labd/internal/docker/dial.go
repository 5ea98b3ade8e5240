package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"

	"github.com/vishvananda/netns"
)

// DialNode opens a TCP connection to addr (a node's address and a declared
// port) from inside the node's own network namespace, for labd's proxy of
// lab web ports. Session bridges have no address on the host, and keep none:
// entering the namespace to create the socket reaches exactly the node, with
// no route, veth or iptables rule added and nothing to clean up. The socket
// stays in the namespace it was made in; only this goroutine's OS thread
// enters it, for the dial, and leaves it at once.
func (r *Runtime) DialNode(ctx context.Context, session, node, addr string) (net.Conn, error) {
	c, err := r.cli.ContainerInspect(ctx, containerName(session, node))
	if err != nil {
		return nil, fmt.Errorf("inspect node %s: %w", node, err)
	}
	l := c.Config.Labels
	if l[LabelSession] != session || l[LabelNode] != node || l[LabelInstance] != r.instance {
		return nil, fmt.Errorf("node %s: not this labd's node of session %s", node, session)
	}
	if c.State == nil || !c.State.Running || c.State.Pid == 0 {
		return nil, fmt.Errorf("node %s is not running", node)
	}
	target, err := netns.GetFromPid(c.State.Pid)
	if err != nil {
		return nil, fmt.Errorf("network namespace of %s: %w", node, err)
	}
	defer target.Close()
	return dialIn(ctx, target, addr)
}

// errSameNamespace refuses a dial that would leave from labd's own network
// (a pid reused by a host process between the inspect and the open).
var errSameNamespace = errors.New("the node's network namespace is the host's")

func dialIn(ctx context.Context, target netns.NsHandle, addr string) (net.Conn, error) {
	runtime.LockOSThread()
	origin, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("own network namespace: %w", err)
	}
	defer origin.Close()
	if origin.Equal(target) {
		runtime.UnlockOSThread()
		return nil, errSameNamespace
	}
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("enter the node's network namespace: %w", err)
	}
	// An IP literal: one socket, made and connected on this thread, no
	// resolver and no parallel dials on other threads.
	var d net.Dialer
	conn, dialErr := d.DialContext(ctx, "tcp", addr)
	if err := netns.Set(origin); err != nil {
		// The thread stays locked and in the node's namespace: the runtime
		// ends it with this goroutine rather than reuse it.
		if conn != nil {
			conn.Close()
		}
		return nil, fmt.Errorf("leave the node's network namespace: %w", err)
	}
	runtime.UnlockOSThread()
	return conn, dialErr
}

package docker

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/container"
	"github.com/vishvananda/netlink"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

var _ lab.Faults = (*Runtime)(nil)

// Fault acts on a node: stop (a host shut down), kill (a host that loses
// power), both until start (the host boots: its daemons start and labd
// wires it again at its address); disconnect (its link to the session's
// network goes down) and connect.
func (r *Runtime) Fault(ctx context.Context, session, node, action string) error {
	name := containerName(session, node)
	switch action {
	case "stop":
		timeout := 10
		return describe(node, r.cli.ContainerStop(ctx, name, container.StopOptions{Timeout: &timeout}))
	case "kill":
		return describe(node, r.cli.ContainerKill(ctx, name, "KILL"))
	case "start":
		return describe(node, r.cli.ContainerStart(ctx, name, container.StartOptions{}))
	case "disconnect", "connect":
		link, err := netlink.LinkByName(vethName(session, node))
		if err != nil {
			return fmt.Errorf("the network link of %s: %w", node, err)
		}
		if action == "disconnect" {
			return netlink.LinkSetDown(link)
		}
		return netlink.LinkSetUp(link)
	}
	return fmt.Errorf("unknown fault action %q", action)
}

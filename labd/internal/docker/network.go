package docker

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// A session's network is a Linux bridge of its own, with no address on the
// host side: nodes reach each other and nothing else, not even the host.
// Nodes are started with Docker's networking disabled and wired to the
// bridge by labd (root on the Docker host) through netlink, as a CNI plugin
// would. Measured here, Docker's own per-container networking costs about
// 270 ms of CPU per node start, and on Docker 20.10 an internal network
// still gives every container a default route and a gateway address on the
// host; this way costs a few milliseconds and leaves no route at all.
//
// Every session uses the same addresses (the bridges never meet), so node
// N of a lab always has the same address, across restarts too.

// linkID is a short, stable name part for interface names (at most 15 bytes).
func linkID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return strings.ToLower(base32.StdEncoding.EncodeToString(sum[:])[:12])
}

func bridgeName(session string) string { return "acb" + linkID(session) }

func vethName(session, node string) string { return "acv" + linkID(session+"/"+node) }

// bridgeAlias marks a bridge as this instance's, for Sessions after a restart.
func (r *Runtime) bridgeAlias(session string) string {
	return "academy/" + r.instance + "/" + session
}

// writeSys writes a sysfs or procfs setting of a link.
func writeSys(path, value string) error {
	return os.WriteFile(path, []byte(value), 0o644)
}

// allowBridged lets bridged traffic between the nodes of one session pass the
// host's iptables. With br_netfilter loaded (Docker loads it) and
// net.bridge.bridge-nf-call-iptables on, bridged frames go through the
// FORWARD chain, whose policy Docker sets to DROP. The rule goes into
// DOCKER-USER, the chain Docker keeps for rules of others, once.
func allowBridged() error {
	v, err := os.ReadFile("/proc/sys/net/bridge/bridge-nf-call-iptables")
	if err != nil || strings.TrimSpace(string(v)) != "1" {
		return nil // bridged traffic does not meet iptables
	}
	rule := []string{"-i", "acb+", "-o", "acb+", "-j", "ACCEPT"}
	chain := "DOCKER-USER"
	if exec.Command("iptables", "-w", "-n", "-L", chain).Run() != nil {
		chain = "FORWARD"
	}
	if exec.Command("iptables", append([]string{"-w", "-C", chain}, rule...)...).Run() == nil {
		return nil
	}
	out, err := exec.Command("iptables", append([]string{"-w", "-I", chain}, rule...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("allow traffic within lab bridges: iptables: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// createBridge makes the session's bridge: up, no IPv4 or IPv6 address on
// the host side, and out of the host's iptables (Docker's FORWARD policy
// would drop bridged traffic).
func (r *Runtime) createBridge(session string) error {
	r.allowOnce.Do(func() { r.allowErr = allowBridged() })
	if r.allowErr != nil {
		return r.allowErr
	}
	name := bridgeName(session)
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := netlink.LinkAdd(br); err != nil && !errors.Is(err, syscall.EEXIST) {
		if errors.Is(err, syscall.EPERM) {
			return fmt.Errorf("create bridge %s: %w (labd must run as root on the Docker host)", name, err)
		}
		return fmt.Errorf("create bridge %s: %w", name, err)
	}
	link, err := netlink.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find bridge %s: %w", name, err)
	}
	if err := netlink.LinkSetAlias(link, r.bridgeAlias(session)); err != nil {
		return fmt.Errorf("label bridge %s: %w", name, err)
	}
	if err := writeSys("/proc/sys/net/ipv6/conf/"+name+"/disable_ipv6", "1"); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("bridge %s: disable IPv6: %w", name, err)
	}
	for _, f := range []string{"nf_call_iptables", "nf_call_ip6tables", "nf_call_arptables"} {
		if err := writeSys("/sys/class/net/"+name+"/bridge/"+f, "0"); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("bridge %s: %s: %w", name, f, err)
		}
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("bridge %s up: %w", name, err)
	}
	return nil
}

// deleteBridge removes a session's bridge; a bridge that is gone is fine.
func deleteBridge(session string) error {
	link, err := netlink.LinkByName(bridgeName(session))
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return err
	}
	if err := netlink.LinkDel(link); err != nil && !errors.Is(err, syscall.ENODEV) {
		return fmt.Errorf("delete bridge %s: %w", link.Attrs().Name, err)
	}
	return nil
}

// bridgeSessions lists the sessions whose bridges this instance made.
func (r *Runtime) bridgeSessions() ([]string, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	prefix := r.bridgeAlias("")
	var ids []string
	for _, l := range links {
		if id, ok := strings.CutPrefix(l.Attrs().Alias, prefix); ok && l.Type() == "bridge" {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// LabelAddresses lists a node's extra addresses (lab.Node.Addresses, CIDR,
// comma-separated), so a restarted node gets them back too.
const LabelAddresses = "academy.addresses"

// addressesLabel is the label value for a node's extra addresses.
func addressesLabel(addrs []string) string { return strings.Join(addrs, ",") }

// parseAddresses reads a node's extra addresses from its label.
func parseAddresses(label string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, a := range strings.Split(label, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		ip, ipnet, err := net.ParseCIDR(a)
		if err != nil || ip.To4() == nil {
			return nil, fmt.Errorf("extra address %q: want an IPv4 CIDR such as 172.30.1.2/16", a)
		}
		ipnet.IP = ip.To4()
		out = append(out, ipnet)
	}
	return out, nil
}

// wire connects a running node (its init process is pid) to the session's
// bridge as eth0 with addr and the extra addresses. It does nothing when
// eth0 already has addr, so Create and Watch may both call it for the same
// start.
func (r *Runtime) wire(pid int, session, node string, addr *net.IPNet, extra []*net.IPNet) error {
	// Create and Watch both see a node's first start: one wires, the other
	// then finds it done.
	mu, _ := r.wiring.LoadOrStore(session+"/"+node, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return fmt.Errorf("network namespace of %s: %w", node, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", node, err)
	}
	defer h.Close()
	if eth0, err := h.LinkByName("eth0"); err == nil {
		addrs, _ := h.AddrList(eth0, netlink.FAMILY_V4)
		for _, a := range addrs {
			if a.IP.Equal(addr.IP) {
				return nil
			}
		}
	}
	br, err := netlink.LinkByName(bridgeName(session))
	if err != nil {
		return fmt.Errorf("bridge of %s: %w", node, err)
	}
	host := vethName(session, node)
	// A veth left by an earlier start whose namespace is gone dies with it;
	// one that lingers (the node restarted as we wired it) is replaced.
	if old, err := netlink.LinkByName(host); err == nil {
		netlink.LinkDel(old)
	}
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: host, MasterIndex: br.Attrs().Index},
		PeerName:      "eth0",
		PeerNamespace: netlink.NsFd(int(ns)),
		// A MAC derived from the address (as Docker does) stays the same
		// across restarts, so the other nodes' ARP caches stay right.
		PeerHardwareAddr: net.HardwareAddr{0x02, 0x42, addr.IP.To4()[0], addr.IP.To4()[1], addr.IP.To4()[2], addr.IP.To4()[3]},
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("veth for %s: %w", node, err)
	}
	if err := writeSys("/proc/sys/net/ipv6/conf/"+host+"/disable_ipv6", "1"); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("veth for %s: disable IPv6: %w", node, err)
	}
	if err := netlink.LinkSetUp(veth); err != nil {
		return fmt.Errorf("veth for %s up: %w", node, err)
	}
	eth0, err := h.LinkByName("eth0")
	if err != nil {
		return fmt.Errorf("eth0 in %s: %w", node, err)
	}
	if err := h.AddrAdd(eth0, &netlink.Addr{IPNet: addr}); err != nil && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("address of %s: %w", node, err)
	}
	// Extra addresses (such as the fixed ones Killercoda scenarios
	// hard-code) sit beside the session's one, on the same bridge.
	for _, a := range extra {
		if err := h.AddrAdd(eth0, &netlink.Addr{IPNet: a}); err != nil && !errors.Is(err, syscall.EEXIST) {
			return fmt.Errorf("address %s of %s: %w", a, node, err)
		}
	}
	if err := h.LinkSetUp(eth0); err != nil {
		return fmt.Errorf("eth0 in %s up: %w", node, err)
	}
	return nil
}

// hostsFile is a node's /etc/hosts: every node of the session by name.
func hostsFile(names []string, addrs []string) []byte {
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	for i, n := range names {
		fmt.Fprintf(&b, "%s\t%s\n", addrs[i], n)
	}
	return b.Bytes()
}

// writeHosts writes a node's /etc/hosts through its root as the host sees it
// (/proc/PID/root). os.Root keeps every step of the path inside the node's
// root, so no symlink in the node can point the write at the host.
func writeHosts(pid int, data []byte) error {
	root, err := os.OpenRoot(fmt.Sprintf("/proc/%d/root", pid))
	if err != nil {
		return err
	}
	defer root.Close()
	return root.WriteFile("etc/hosts", data, 0o644)
}

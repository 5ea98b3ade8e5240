package lab

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Port is a web port of a node, offered in the lab page and reached only
// through labd's proxy, on an origin of its own.
type Port struct {
	Port  int    `field:"port,required"`
	Name  string `field:"name,required"`
	Title Text   `field:"title,required"`
	Path  string `field:"path"` // where the tab opens; default /
	TLS   bool   `field:"tls"`  // the node serves HTTPS on it
}

// MaxPorts bounds a node's declared ports.
const MaxPorts = 8

// MaxPortNode is the longest name of a node with ports: its ports' host
// names, p<port>-<node>-<token>, must fit one DNS label of 63 bytes.
const MaxPortNode = 29

func (v *validator) ports(node, name string, ports []Port) {
	if len(ports) > 0 && len(name) > MaxPortNode {
		v.Fail(node+".name", "a node with ports has a name of at most %d characters (it goes into a host name), found %q", MaxPortNode, name)
	}
	if len(ports) > MaxPorts {
		v.Fail(node+".ports", "at most %d ports, found %d", MaxPorts, len(ports))
	}
	seen := map[string]bool{}
	for i := range ports {
		p := &ports[i]
		f := fmt.Sprintf("%s.ports[%d]", node, i)
		if p.Port < 1 || p.Port > 65535 {
			v.Fail(f+".port", "want a port number from 1 to 65535, found %d", p.Port)
		}
		if !idPattern.MatchString(p.Name) {
			v.Fail(f+".name", "want lowercase letters, digits and dashes, found %q", p.Name)
		}
		for _, k := range []string{"p" + strconv.Itoa(p.Port), "n" + p.Name} {
			if seen[k] {
				v.Fail(f, "port %d or name %q declared twice on this node", p.Port, p.Name)
			}
			seen[k] = true
		}
		v.text(f+".title", p.Title)
		if p.Path == "" {
			p.Path = "/"
		}
		if !strings.HasPrefix(p.Path, "/") || strings.HasPrefix(p.Path, "//") || strings.ContainsAny(p.Path, "\\ \t\r\n#") {
			v.Fail(f+".path", "want a path on the port starting with /, found %q", p.Path)
		}
	}
}

// Port returns the declared port of node.
func (n Node) Port(port int) (Port, bool) {
	for _, p := range n.Ports {
		if p.Port == port {
			return p, true
		}
	}
	return Port{}, false
}

// Target is where labd's proxy dials a declared port of a ready session:
// the node's address on the session network, with the port, and whether
// the port serves HTTPS. ok is false
// unless the session is live and ready, node is one of its nodes and port
// is declared on it. Targets come only from the service's own state.
func (s *Service) Target(session, node string, port int) (addr string, tls, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, live := s.live[session]
	if !live || e.s.State != Ready || e.s.Owner == "" {
		return "", false, false
	}
	def, found := s.catalog.Lab(e.s.Lab)
	if !found {
		return "", false, false
	}
	n, found := def.Node(node)
	if !found {
		return "", false, false
	}
	p, found := n.Port(port)
	if !found {
		return "", false, false
	}
	for _, na := range e.s.Nodes {
		if na.Name == node && na.Address != "" {
			return net.JoinHostPort(na.Address, strconv.Itoa(port)), p.TLS, true
		}
	}
	return "", false, false
}

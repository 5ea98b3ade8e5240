package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// config is `labd serve`'s configuration: flags, each with a LABD_* variable
// as its default (see the README's table).
type config struct {
	Addr        string
	Data        string
	DB          string // a postgres:// URL; empty: the SQLite file in Data
	Labs        string
	Certs       string
	Site        string
	URL         string // the site's public base URL: certificates' issuer and verify links
	MaxPerUser  int
	MaxSessions int
	WarmPool    map[string]int
	Subnet      string
	Instance    string
	Runtime     string
	Grace       time.Duration
	RecKeep     time.Duration // recordings older than this are removed (0: kept)
	RecMax      int64         // recordings beyond this total are removed, oldest first (0: no cap)
	Origins     []string
	ReapEvery   time.Duration
	LogLevel    slog.Level
	LabDomain   string // lab web ports are served on hosts under it

	finish func() error // checks and converts what flag parsing left as text
}

func (c *config) flags(fs *flag.FlagSet, getenv func(string) string) {
	str := func(p *string, name, env, def, usage string) {
		if v := getenv(env); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, usage+" ($"+env+")")
	}
	num := func(p *int, name, env string, def int, usage string) {
		if v, err := strconv.Atoi(getenv(env)); err == nil {
			def = v
		}
		fs.IntVar(p, name, def, usage+" ($"+env+")")
	}
	str(&c.Addr, "addr", "LABD_ADDR", ":8080", "listen address")
	str(&c.Data, "data", "LABD_DATA", "./data", "data folder: database and keys")
	str(&c.DB, "db", "LABD_DB", "", "the database: a postgres://... URL, or empty for the SQLite file labd.db in the data folder")
	str(&c.Labs, "labs", "LABD_LABS", "./labs", "lab definitions")
	str(&c.Certs, "certs", "LABD_CERTS", "./certs", "certification programs")
	str(&c.Site, "site", "LABD_SITE", "./site/public", "the built site, served at /")
	str(&c.URL, "url", "LABD_URL", "http://127.0.0.1:8080", "the site's public base URL, the issuer of certificates and the base of their verify links")
	num(&c.MaxPerUser, "max-per-user", "LABD_MAX_PER_USER", 3, "live lab sessions per user")
	num(&c.MaxSessions, "max-sessions", "LABD_MAX_SESSIONS", 120, "live lab environments in all, warm pools included")
	str(&c.Instance, "instance", "LABD_INSTANCE", "default", "this labd's name on the Docker daemon: it adopts and removes only its own sessions")
	str(&c.Subnet, "lab-subnet", "LABD_LAB_SUBNET", "10.213.0.0/24", "node addresses inside every lab session (sessions never share a network)")
	str(&c.Runtime, "runtime", "LABD_RUNTIME", "docker", "docker, or local: processes on this machine in a folder per node, for development only, NOT a sandbox")
	str(&c.LabDomain, "lab-domain", "LABD_LAB_DOMAIN", "labs.localhost", "lab web ports are served on p<port>-<node>-<token>.DOMAIN: a wildcard DNS name (and certificate) for labd, never the portal's host")
	grace := "10m"
	if v := getenv("LABD_TERMINAL_GRACE"); v != "" {
		grace = v
	}
	fs.Func("terminal-grace", "how long a shell outlives its dropped connection ($LABD_TERMINAL_GRACE, default 10m)", func(s string) error {
		grace = s
		return nil
	})
	recKeep, recMax := "90d", "10GiB"
	if v := getenv("LABD_RECORDINGS_KEEP"); v != "" {
		recKeep = v
	}
	if v := getenv("LABD_RECORDINGS_MAX"); v != "" {
		recMax = v
	}
	fs.Func("recordings-keep", "how long terminal recordings are kept, such as 90d or 72h; 0 for ever ($LABD_RECORDINGS_KEEP, default 90d)", func(s string) error {
		recKeep = s
		return nil
	})
	fs.Func("recordings-max", "the most terminal recordings may take, such as 10GiB or 500MiB; the oldest go first; 0 for no cap ($LABD_RECORDINGS_MAX, default 10GiB)", func(s string) error {
		recMax = s
		return nil
	})
	origins := getenv("LABD_ORIGINS")
	fs.Func("origins", "other origins whose pages may open terminals, comma-separated ($LABD_ORIGINS)", func(s string) error {
		origins = s
		return nil
	})
	pool := getenv("LABD_WARM_POOL")
	fs.Func("warm-pool", "ready environments kept per lab, as lab=N,lab=N ($LABD_WARM_POOL)", func(s string) error {
		pool = s
		return nil
	})
	reap := "5s"
	if v := getenv("LABD_REAP_EVERY"); v != "" {
		reap = v
	}
	fs.Func("reap-every", "how often lifetimes are enforced and pools refilled ($LABD_REAP_EVERY, default 5s)", func(s string) error {
		reap = s
		return nil
	})
	level := getenv("LABD_LOG_LEVEL")
	fs.Func("log-level", "debug, info, warn or error ($LABD_LOG_LEVEL, default info)", func(s string) error {
		level = s
		return nil
	})
	c.finish = func() error {
		var err error
		if c.WarmPool, err = parseWarmPool(pool); err != nil {
			return err
		}
		if c.Grace, err = time.ParseDuration(grace); err != nil || c.Grace <= 0 {
			return fmt.Errorf("terminal-grace: want a duration such as 10m, found %q", grace)
		}
		if c.RecKeep, err = parseDays(recKeep); err != nil {
			return fmt.Errorf("recordings-keep: want a duration such as 90d or 72h, found %q", recKeep)
		}
		if c.RecMax, err = parseBytes(recMax); err != nil {
			return fmt.Errorf("recordings-max: want a size such as 10GiB or 500MiB, found %q", recMax)
		}
		for o := range strings.SplitSeq(origins, ",") {
			if o = strings.TrimSpace(o); o != "" {
				// Terminals compare Origin headers with these exactly: a bare host would match nothing.
				p, err := url.Parse(o)
				if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.User != nil ||
					(p.Path != "" && p.Path != "/") || p.RawQuery != "" || p.Fragment != "" {
					return fmt.Errorf("origins: want origins such as https://partner.example.com[:port], found %q", o)
				}
				c.Origins = append(c.Origins, o)
			}
		}
		if c.Runtime != "docker" && c.Runtime != "local" {
			return fmt.Errorf("runtime: want docker or local, found %q", c.Runtime)
		}
		if c.ReapEvery, err = time.ParseDuration(reap); err != nil || c.ReapEvery <= 0 {
			return fmt.Errorf("reap-every: want a duration such as 5s, found %q", reap)
		}
		if level != "" {
			if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
				return fmt.Errorf("log-level: %w", err)
			}
		}
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("url: want the site's base URL such as https://academy.example.com, found %q", c.URL)
		}
		c.URL = strings.TrimRight(c.URL, "/")
		if c.MaxPerUser < 1 || c.MaxSessions < 1 {
			return fmt.Errorf("max-per-user and max-sessions must be at least 1")
		}
		return c.checkLabDomain(u.Hostname())
	}
}

// parseDays parses a duration that may also be whole days, "90d".
func parseDays(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad days %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		err = fmt.Errorf("negative duration %q", s)
	}
	return d, err
}

// parseBytes parses a size: bytes, or a number with KiB, MiB, GiB or TiB.
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	for i, unit := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			s, mult = n, 1<<(10*(i+1))
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// parseWarmPool parses "lab=N,lab=N".
func parseWarmPool(s string) (map[string]int, error) {
	out := map[string]int{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, n, ok := strings.Cut(part, "=")
		size, err := strconv.Atoi(n)
		if !ok || err != nil || size < 0 || id == "" {
			return nil, fmt.Errorf("warm-pool: want lab=N,lab=N, found %q", part)
		}
		out[id] = size
	}
	return out, nil
}

// labDomainPattern is a DNS name of two labels or more.
var labDomainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// checkLabDomain keeps lab origins off the portal's: a lab page on the
// portal's host (or one above it) would share its cookies and origin.
func (c *config) checkLabDomain(portal string) error {
	c.LabDomain = strings.ToLower(strings.TrimSuffix(c.LabDomain, "."))
	portal = strings.ToLower(portal)
	switch {
	case !labDomainPattern.MatchString(c.LabDomain) || len(c.LabDomain) > 190:
		return fmt.Errorf("lab-domain: want a DNS name such as labs.example.net, found %q", c.LabDomain)
	case portal == c.LabDomain || strings.HasSuffix(portal, "."+c.LabDomain):
		return fmt.Errorf("lab-domain: %q holds the portal's host %q: give lab ports a domain of their own", c.LabDomain, portal)
	}
	return nil
}

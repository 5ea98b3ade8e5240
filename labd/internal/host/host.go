// Package host reads what the machine labd runs on has left, for the lab
// service's resource admission: memory from /proc/meminfo, kernel AIO slots
// from /proc/sys/fs/aio-nr and aio-max-nr.
package host

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/xsky-academy/academy/labd/internal/lab"
)

// Proc reads the host's resources from a proc file system.
type Proc struct {
	Root string // default /proc
}

var _ lab.Host = Proc{}

// Resources implements lab.Host.
func (p Proc) Resources(ctx context.Context) (lab.HostResources, error) {
	root := p.Root
	if root == "" {
		root = "/proc"
	}
	var h lab.HostResources
	if err := ctx.Err(); err != nil {
		return h, err
	}
	mem, err := os.ReadFile(filepath.Join(root, "meminfo"))
	if err != nil {
		return h, fmt.Errorf("read meminfo: %w", err)
	}
	if h.MemTotal, err = meminfo(mem, "MemTotal"); err != nil {
		return h, err
	}
	if h.MemAvailable, err = meminfo(mem, "MemAvailable"); err != nil {
		return h, err
	}
	if h.AIOInUse, err = number(filepath.Join(root, "sys/fs/aio-nr")); err != nil {
		return h, err
	}
	if h.AIOMax, err = number(filepath.Join(root, "sys/fs/aio-max-nr")); err != nil {
		return h, err
	}
	h.CPUs = runtime.NumCPU()
	return h, nil
}

// meminfo returns field of /proc/meminfo in bytes ("MemAvailable:  123 kB").
func meminfo(data []byte, field string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("meminfo %s: bad value %q", field, f[0])
		}
		if len(f) > 1 && f[1] == "kB" {
			n <<= 10
		}
		return n, nil
	}
	return 0, fmt.Errorf("meminfo: no %s", field)
}

func number(file string) (int64, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", file, err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: bad value %q", file, strings.TrimSpace(string(b)))
	}
	return n, nil
}

package lab

// Resource-aware admission: memory, kernel AIO slots and the cores setups
// keep busy, read from the host through a small interface.

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// HostResources is what the host has, as read now.
type HostResources struct {
	MemAvailable int64 // bytes the kernel can give without swapping (MemAvailable)
	MemTotal     int64
	AIOInUse     int64 // kernel AIO slots allocated (fs.aio-nr), by anyone
	AIOMax       int64 // the host's limit (fs.aio-max-nr)
	CPUs         int
}

// Host reads the host's resources (an adapter reads /proc).
type Host interface {
	Resources(ctx context.Context) (HostResources, error)
}

// ResourceAdmission admits an environment when Next admits it and the host
// has left what the lab costs (Definition.Resources), counting what the
// environments being provisioned will still take: their memory and AIO
// slots are not in the host's figures yet. Setups that keep cores busy are
// staggered: those running at once claim at most StartLoad times the
// host's cores (one always may run). A lab that cannot start now waits in
// the line; the reaper asks again every few seconds.
type ResourceAdmission struct {
	Next Admission
	Host Host
	// MemReserve is memory kept free for the host and labd (default 1 GiB,
	// or a tenth of the memory when less). AIOReserve are AIO slots kept
	// for others on the host (default 1/16 of the limit).
	MemReserve int64
	AIOReserve int64
	// StartLoad is how many times the host's cores the setups at once may
	// claim (default 1.5: a setup spends part of its time waiting).
	StartLoad float64
	Log       *slog.Logger

	mu   sync.Mutex
	last HostResources
	read bool
}

// Shortage is why an environment waits: the first resource it lacks.
type Shortage string

const (
	ShortNone     Shortage = ""
	ShortCount    Shortage = "sessions"
	ShortMemory   Shortage = "memory"
	ShortAIO      Shortage = "aio"
	ShortStarting Shortage = "starting"
)

// Admit implements Admission.
func (a *ResourceAdmission) Admit(def *Definition, u Usage) bool {
	return a.Why(def, u) == ShortNone
}

// Why returns what def lacks to start now, ShortNone if nothing.
func (a *ResourceAdmission) Why(def *Definition, u Usage) Shortage {
	if a.Next != nil && !a.Next.Admit(def, u) {
		return ShortCount
	}
	return a.hostWhy(def, u)
}

func (a *ResourceAdmission) hostWhy(def *Definition, u Usage) Shortage {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	h, err := a.Host.Resources(ctx)
	if err != nil {
		// Unknown: the count alone decides, as without this admission.
		if a.Log != nil {
			a.Log.Warn("host resources unreadable; admitting by count", "err", err)
		}
		return ShortNone
	}
	a.mu.Lock()
	a.last, a.read = h, true
	a.mu.Unlock()
	return a.short(def, u, h)
}

func (a *ResourceAdmission) short(def *Definition, u Usage, h HostResources) Shortage {
	var mem, aio int64
	var cpus float64
	for _, d := range u.Starting {
		mem += int64(d.Resources.Memory)
		aio += d.Resources.AIO
		cpus += d.Resources.StartCPUs
	}
	memReserve := a.MemReserve
	if memReserve == 0 {
		memReserve = min(1<<30, h.MemTotal/10)
	}
	if h.MemAvailable-mem-memReserve < int64(def.Resources.Memory) {
		return ShortMemory
	}
	if def.Resources.AIO > 0 && h.AIOMax > 0 {
		reserve := a.AIOReserve
		if reserve == 0 {
			reserve = h.AIOMax / 16
		}
		if h.AIOMax-h.AIOInUse-aio-reserve < def.Resources.AIO {
			return ShortAIO
		}
	}
	load := a.StartLoad
	if load == 0 {
		load = 1.5
	}
	if def.Resources.StartCPUs > 0 && cpus > 0 && cpus+def.Resources.StartCPUs > load*float64(max(h.CPUs, 1)) {
		return ShortStarting
	}
	return ShortNone
}

// Last is the host's resources as last read (ok false before any).
func (a *ResourceAdmission) Last() (HostResources, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last, a.read
}

// Committed is what the environments that exist or are being made hold by
// their labs' declared costs: memory in bytes and kernel AIO slots.
func (s *Service) Committed() (memory, aio int64) {
	s.mu.Lock()
	u := s.usageLocked()
	s.mu.Unlock()
	for labID, n := range u.ByLab {
		if def, ok := s.catalog.Lab(labID); ok {
			memory += int64(n) * int64(def.Resources.Memory)
			aio += int64(n) * def.Resources.AIO
		}
	}
	return memory, aio
}

// HostAdmission is an Admission that can also say whether the host alone
// (not the count) lets an environment start: warm-pool environments a
// class reserved skip the count, not the host.
type HostAdmission interface {
	AdmitHost(def *Definition, u Usage) bool
}

// AdmitHost implements HostAdmission.
func (a *ResourceAdmission) AdmitHost(def *Definition, u Usage) bool {
	return a.hostWhy(def, u) == ShortNone
}

// hostAdmitsLocked: whether the host lets one more environment of def start
// (true without a HostAdmission).
func (s *Service) hostAdmitsLocked(def *Definition) bool {
	ha, ok := s.cfg.Admission.(HostAdmission)
	return !ok || ha.AdmitHost(def, s.usageLocked())
}

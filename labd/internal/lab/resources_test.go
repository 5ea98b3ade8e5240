package lab

import (
	"context"
	"errors"
	"testing"
)

type fakeHost struct {
	h   HostResources
	err error
}

func (f fakeHost) Resources(context.Context) (HostResources, error) { return f.h, f.err }

func TestResourceAdmission(t *testing.T) {
	ceph := &Definition{ID: "ceph", Resources: Resources{Memory: 512 << 20, StartCPUs: 1, AIO: 768}}
	small := &Definition{ID: "small", Resources: Resources{Memory: 256 << 20}}
	roomy := HostResources{MemTotal: 24 << 30, MemAvailable: 20 << 30, AIOInUse: 4096, AIOMax: 65536, CPUs: 2}
	with := func(f func(*HostResources)) HostResources { h := roomy; f(&h); return h }
	tests := []struct {
		name     string
		def      *Definition
		host     HostResources
		err      error
		starting []*Definition
		envs     int
		want     Shortage
	}{
		{"room for it", ceph, roomy, nil, nil, 0, ShortNone},
		{"the count is reached", ceph, roomy, nil, nil, 10, ShortCount},
		// 65536 - 4096 (reserve) - 60928 in use leaves 512 < 768.
		{"AIO slots used by anyone", ceph, with(func(h *HostResources) { h.AIOInUse = 60928 }), nil, nil, 0, ShortAIO},
		// 65536 - 4096 - 59392 = 2048; two starting take 1536, 512 left.
		{"AIO slots the starting ones will take", ceph, with(func(h *HostResources) { h.AIOInUse = 59392 }), nil,
			[]*Definition{small, {Resources: Resources{AIO: 1536}}}, 0, ShortAIO},
		{"a lab without AIO ignores it", small, with(func(h *HostResources) { h.AIOInUse = 65536 }), nil, nil, 0, ShortNone},
		// 2 GiB available - 1 GiB reserve - 512 MiB starting < 768 MiB.
		{"memory", &Definition{Resources: Resources{Memory: 768 << 20}}, with(func(h *HostResources) { h.MemAvailable = 2 << 30 }), nil,
			[]*Definition{ceph}, 0, ShortMemory},
		{"memory enough", &Definition{Resources: Resources{Memory: 256 << 20}}, with(func(h *HostResources) { h.MemAvailable = 2 << 30 }), nil,
			[]*Definition{ceph}, 0, ShortNone},
		{"one setup always starts", ceph, roomy, nil, nil, 0, ShortNone},
		{"setups fit 1.5 x 2 cores", ceph, roomy, nil, []*Definition{ceph, ceph}, 0, ShortNone},
		{"a fourth setup waits", ceph, roomy, nil, []*Definition{ceph, ceph, ceph}, 0, ShortStarting},
		{"a lab without start cost is not staggered", small, roomy, nil, []*Definition{ceph, ceph, ceph}, 0, ShortNone},
		{"an unreadable host admits by count", ceph, HostResources{}, errors.New("no /proc"), nil, 0, ShortNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &ResourceAdmission{Next: CountAdmission{Max: 10}, Host: fakeHost{tt.host, tt.err}}
			got := a.Why(tt.def, Usage{Environments: tt.envs, Starting: tt.starting})
			if got != tt.want {
				t.Errorf("Why = %q, want %q", got, tt.want)
			}
			if a.Admit(tt.def, Usage{Environments: tt.envs, Starting: tt.starting}) != (tt.want == ShortNone) {
				t.Errorf("Admit disagrees with Why")
			}
		})
	}
}

// A class's reserved warm-pool environments skip the count, not the host.
func TestResourceAdmissionHostOnly(t *testing.T) {
	ceph := &Definition{ID: "ceph", Resources: Resources{Memory: 512 << 20, StartCPUs: 1, AIO: 768}}
	roomy := HostResources{MemTotal: 24 << 30, MemAvailable: 20 << 30, AIOInUse: 4096, AIOMax: 65536, CPUs: 2}
	a := &ResourceAdmission{Next: CountAdmission{Max: 1}, Host: fakeHost{h: roomy}}
	if a.Admit(ceph, Usage{Environments: 1}) || !a.AdmitHost(ceph, Usage{Environments: 1}) {
		t.Error("the count decides Admit, not AdmitHost")
	}
	if a.AdmitHost(ceph, Usage{Starting: []*Definition{ceph, ceph, ceph}}) {
		t.Error("AdmitHost lets a fourth Ceph setup start on 2 cores")
	}
}

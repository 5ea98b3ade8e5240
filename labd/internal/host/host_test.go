package host

import (
	"context"
	"testing"
)

func TestProcResources(t *testing.T) {
	h, err := Proc{Root: "testdata/proc"}.Resources(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h.MemTotal != 24<<30 || h.MemAvailable != 20<<30 || h.AIOInUse != 49152 || h.AIOMax != 65536 || h.CPUs < 1 {
		t.Errorf("got %+v", h)
	}
	if _, err := (Proc{Root: "testdata/none"}).Resources(context.Background()); err == nil {
		t.Error("a missing /proc reads without an error")
	}
}

// TestProcResourcesReal reads this machine's /proc: the kernel's figures parse.
func TestProcResourcesReal(t *testing.T) {
	h, err := Proc{}.Resources(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h.MemAvailable <= 0 || h.MemAvailable > h.MemTotal || h.AIOMax <= 0 || h.AIOInUse > h.AIOMax {
		t.Errorf("implausible: %+v", h)
	}
}

func TestMeminfoBad(t *testing.T) {
	for _, in := range []string{"", "MemAvailable: x kB\n", "MemAvailable:\n", "MemAvailable: -5 kB\n"} {
		if _, err := meminfo([]byte(in), "MemAvailable"); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

package killercoda

import (
	"os"
	"testing"
)

// BenchmarkConvertTenSteps: the import of a ten-step scenario (target:
// under 1 s).
func BenchmarkConvertTenSteps(b *testing.B) {
	src := os.DirFS("testdata/scenarios")
	for b.Loop() {
		l, err := Convert(src, "text-tools", Options{})
		if err != nil || l.Steps != 10 {
			b.Fatal(l, err)
		}
	}
}

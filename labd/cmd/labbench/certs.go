package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
)

// certFigures runs the certificate benchmarks (issue 5) on one core
// (-cpu 1) and reports issuing and verifying against Ed25519 signing and
// verifying measured in the same run. The machine may be shared, so the
// figures are per CPU-second of the process (cpu-ns/op), not wall time.
func certFigures() error {
	fmt.Println("certificates:")
	cmd := exec.Command("go", "test", "./labd/internal/certificate/", "-run", "^$", "-count", "1",
		"-bench", `^Benchmark(Issue|Verify|Ed25519Sign|Ed25519Verify)$`, "-cpu", "1", "-benchtime", "2s")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("certificate benchmarks: %w\n%s", err, out)
	}
	cpu := map[string]float64{}
	for _, m := range regexp.MustCompile(`(?m)^Benchmark(\w+)\s.*?\s([0-9.]+) cpu-ns/op`).FindAllStringSubmatch(string(out), -1) {
		cpu[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	for _, f := range []struct{ name, bench, base, target string }{
		{"certificate issue (SQLite), one core", "Issue", "Ed25519Sign", "≥ 2,000/s"},
		{"certificate verify (offline), one core", "Verify", "Ed25519Verify", "≥ 10,000/s"},
	} {
		ns, base := cpu[f.bench], cpu[f.base]
		if ns == 0 || base == 0 {
			return fmt.Errorf("certificate benchmarks: no figure for %s or %s in:\n%s", f.bench, f.base, out)
		}
		report(figure{name: f.name, value: fmt.Sprintf("%.0f/s (%.0f µs CPU)", 1e9/ns, ns/1e3),
			baseline: fmt.Sprintf("%s %.0f/s", f.base, 1e9/base), ratio: fmt.Sprintf("%.2f", ns/base), target: f.target})
	}
	return nil
}

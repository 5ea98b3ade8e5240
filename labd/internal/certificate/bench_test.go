package certificate_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/certificate"
)

// cpuTime is the process's CPU time (user and system). On a shared machine
// wall time per op swings with the neighbours' load; CPU time per op is what
// a core of our own would do, so the benchmarks report both.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// perCPUSecond reports ops per CPU-second since start.
func perCPUSecond(b *testing.B, start time.Duration, unit string) {
	cpu := cpuTime() - start
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), unit+"/cpu-s")
}

// BenchmarkIssue issues certificates to distinct users through the real
// SQLite store (run with -cpu 1: the figure is per core).
func BenchmarkIssue(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	start := cpuTime()
	for b.Loop() {
		i++
		if _, err := e.svc.Issue(ctx, request("user-"+strconv.Itoa(i), "Trainee "+strconv.Itoa(i))); err != nil {
			b.Fatal(err)
		}
	}
	perCPUSecond(b, start, "certs")
}

// BenchmarkIssueExisting is a repeated claim: the live certificate is returned.
func BenchmarkIssueExisting(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	e.issue(b, "alice", "Alice")
	for b.Loop() {
		if _, err := e.svc.Issue(ctx, request("alice", "Alice")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify verifies a certificate offline: signature, shape,
// mirrored claims and the status list bit.
func BenchmarkVerify(b *testing.B) {
	e := newEnv(b)
	c := e.issue(b, "alice", "张伟 Alice Zhang")
	tok, _ := e.svc.StatusList(context.Background(), 1)
	list, err := certificate.ParseStatusList(tok, e.keys, siteURL)
	if err != nil {
		b.Fatal(err)
	}
	v := certificate.Verifier{Keys: e.keys, Issuer: siteURL, Status: list}
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if _, err := v.Verify(c.JWT); err != nil {
			b.Fatal(err)
		}
	}
	perCPUSecond(b, start, "verifies")
}

// BenchmarkServiceVerify adds the issuer's record lookup (SQLite).
func BenchmarkServiceVerify(b *testing.B) {
	e := newEnv(b)
	c := e.issue(b, "alice", "张伟 Alice Zhang")
	ctx := context.Background()
	start := cpuTime()
	for b.Loop() {
		if _, err := e.svc.Verify(ctx, c.JWT); err != nil {
			b.Fatal(err)
		}
	}
	perCPUSecond(b, start, "verifies")
}

// BenchmarkEd25519Verify is the baseline of BenchmarkVerify: the signature
// check alone on a payload of a certificate's size, measured in the same run.
func BenchmarkEd25519Verify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 2600)
	sig := ed25519.Sign(priv, msg)
	start := cpuTime()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("bad signature")
		}
	}
	perCPUSecond(b, start, "verifies")
}

// BenchmarkEd25519Sign is the baseline of BenchmarkIssue's signing.
func BenchmarkEd25519Sign(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 2600)
	start := cpuTime()
	for b.Loop() {
		ed25519.Sign(priv, msg)
	}
	perCPUSecond(b, start, "signs")
}

package certificate_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xsky-academy/academy/labd/internal/certificate"
)

// needTool fails (not skips) when a tool the test needs is missing, except
// with -short.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if testing.Short() {
			t.Skipf("%s missing (-short)", name)
		}
		t.Fatalf("%s is missing: install Debian's %s (make test does, through scripts/deps.sh)", name, pkg)
	}
	return p
}

func TestPDF(t *testing.T) {
	if _, err := os.Stat(certificate.DefaultFont); err != nil {
		if testing.Short() {
			t.Skip("font missing (-short)")
		}
		t.Fatalf("the PDF font is missing: %v (make test installs fonts-arphic-gbsn00lp)", err)
	}
	pdftoppm := needTool(t, "pdftoppm", "poppler-utils")
	pdftotext := needTool(t, "pdftotext", "poppler-utils")
	e := newEnv(t)
	c := e.issue(t, "alice", "张伟 Alice Zhang")
	r, err := e.svc.Revoke(context.Background(), c.Code, "test")
	if err != nil {
		t.Fatal(err)
	}
	var p certificate.PDF
	b, err := p.Render(r, e.svc.Issuer(), certificate.Revoked)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "%PDF-") || len(b) > 200<<10 {
		t.Fatalf("not a small PDF: %d bytes, %.8q", len(b), b)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "cert.pdf")
	os.WriteFile(file, b, 0o600)
	if out, err := exec.Command(pdftoppm, "-r", "60", "-png", file, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	png, err := os.ReadFile(filepath.Join(dir, "page-1.png"))
	if err != nil || len(png) < 5000 {
		t.Fatalf("rendered page: %d bytes, %v", len(png), err)
	}
	// Kept for a look, like the browser tests' screenshots.
	if os.MkdirAll("../../../test-output/screenshots", 0o755) == nil {
		os.WriteFile("../../../test-output/screenshots/certificate-pdf.png", png, 0o644)
	}
	out, err := exec.Command(pdftotext, "-layout", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v %s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"认证证书", "Certificate", "张伟 Alice Zhang", "分布式存储运维工程师", "Distributed Storage Operations Engineer",
		"颁发日期", "Issued", "2026-11-27", "2028-11-26", certificate.Group(c.Code), e.svc.Issuer().VerifyURL(c.Code),
		"实验：集群健康检查", "Lab: cluster health", "已吊销", "REVOKED",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
}

func TestPDFMissingFontIsAClearError(t *testing.T) {
	e := newEnv(t)
	c := e.issue(t, "alice", "Alice")
	p := certificate.PDF{FontPath: "/nonexistent/gbsn00lp.ttf"}
	_, err := p.Render(c, e.svc.Issuer(), certificate.Valid)
	if certificate.ErrorCodeOf(err) != certificate.EUnavailable || !strings.Contains(err.Error(), "/nonexistent/gbsn00lp.ttf") ||
		!strings.Contains(err.Error(), "fonts-arphic-gbsn00lp") {
		t.Fatalf("got %v", err)
	}
}

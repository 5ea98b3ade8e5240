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
	for _, f := range []string{certificate.DefaultFont, certificate.DefaultLatin, certificate.DefaultLatinBold} {
		if _, err := os.Stat(f); err != nil {
			if testing.Short() {
				t.Skip("font missing (-short)")
			}
			t.Fatalf("a PDF font is missing: %v (make deps installs fonts-arphic-gbsn00lp and fonts-liberation2)", err)
		}
	}
	pdftoppm := needTool(t, "pdftoppm", "poppler-utils")
	pdftotext := needTool(t, "pdftotext", "poppler-utils")
	pdffonts := needTool(t, "pdffonts", "poppler-utils")
	e := newEnv(t)
	c := e.issue(t, "alice", "张伟 Alice Zhang")
	r, err := e.svc.Revoke(context.Background(), c.Code, "exam misconduct")
	if err != nil {
		t.Fatal(err)
	}
	is := e.svc.Issuer()
	is.NameZH = "XSKY 学院"
	common := []string{
		"认证证书", "Certificate", "张伟 Alice Zhang", "分布式存储运维工程师", "Distributed Storage Operations Engineer",
		"颁发日期", "Issued", "2026-11-27", "2028-11-26", certificate.Group(c.Code), is.VerifyURL(c.Code),
		"实验：集群健康检查", "Lab: cluster health", "XSKY 学院", "XSKY Academy",
	}
	for _, tc := range []struct {
		name   string
		status certificate.Status
		want   []string
		absent []string
	}{
		{"valid", certificate.Valid, common, []string{"已吊销", "REVOKED"}},
		{"revoked", certificate.Revoked, append(common, "已吊销", "REVOKED", "exam misconduct"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p certificate.PDF
			b, err := p.Render(r, is, tc.status)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(b), "%PDF-") || len(b) > 300<<10 {
				t.Fatalf("not a small PDF: %d bytes, %.8q", len(b), b)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "cert.pdf")
			os.WriteFile(file, b, 0o600)
			if d := os.Getenv("PDF_OUT"); d != "" {
				os.WriteFile(filepath.Join(d, tc.name+".pdf"), b, 0o644)
			}
			if out, err := exec.Command(pdftoppm, "-r", "60", "-png", file, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
				t.Fatalf("pdftoppm: %v %s", err, out)
			}
			png, err := os.ReadFile(filepath.Join(dir, "page-1.png"))
			if err != nil || len(png) < 5000 {
				t.Fatalf("rendered page: %d bytes, %v", len(png), err)
			}
			// Kept for a look, like the browser tests' screenshots.
			if os.MkdirAll("../../../test-output/screenshots", 0o755) == nil {
				os.WriteFile("../../../test-output/screenshots/certificate-pdf-"+tc.name+".png", png, 0o644)
			}
			out, err := exec.Command(pdftotext, "-layout", file, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext: %v %s", err, out)
			}
			text := string(out)
			for _, want := range tc.want {
				if !strings.Contains(text, want) {
					t.Errorf("the PDF's text lacks %q:\n%s", want, text)
				}
			}
			for _, no := range tc.absent {
				if strings.Contains(text, no) {
					t.Errorf("the PDF's text has %q:\n%s", no, text)
				}
			}
			// Latin text is set in its own face beside the CJK one.
			out, err = exec.Command(pdffonts, file).CombinedOutput()
			if err != nil {
				t.Fatalf("pdffonts: %v %s", err, out)
			}
			for _, face := range []string{"utf8liberationserif ", "utf8liberationserifB ", "utf8sungtil "} {
				if !strings.Contains(string(out), face) {
					t.Errorf("the PDF does not use %s:\n%s", face, out)
				}
			}
		})
	}
}

// TestPDFRuns: a line is split into runs of one face each, spaces kept
// with the run before them.
func TestPDFRuns(t *testing.T) {
	got := certificate.Runs("实验：Linux 命令行基础  Lab: Linux shell basics:  100%")
	want := []string{"cjk:实验：", "latin:Linux ", "cjk:命令行基础  ", "latin:Lab: Linux shell basics:  100%"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("runs: %q, want %q", got, want)
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
	p = certificate.PDF{LatinPath: "/nonexistent/LiberationSerif-Regular.ttf"}
	_, err = p.Render(c, e.svc.Issuer(), certificate.Valid)
	if certificate.ErrorCodeOf(err) != certificate.EUnavailable || !strings.Contains(err.Error(), "fonts-liberation2") {
		t.Fatalf("latin font missing: %v", err)
	}
}

package api

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/certificate"
)

// maxVerifyPage is the verify page's size budget.
const maxVerifyPage = 50 << 10

func TestVerifyPage(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	svc := ts.api.Certificates
	valid, _ := svc.Issue(ctx, testCertRequest("alice", "张伟 <Alice>"))
	revoked, _ := svc.Issue(ctx, testCertRequest("mallory", "Mallory"))
	if _, err := svc.Revoke(ctx, revoked.Code, "exam misconduct & more"); err != nil {
		t.Fatal(err)
	}
	old, _ := svc.Issue(ctx, testCertRequest("carol", "Carol"))
	renewed, err := svc.Renew(ctx, old.Code)
	if err != nil {
		t.Fatal(err)
	}
	gone, _ := svc.Issue(ctx, testCertRequest("dan", "Dan"))
	if _, err := svc.Revoke(ctx, gone.Code, "a mistake"); err != nil {
		t.Fatal(err)
	}
	again, err := svc.Reissue(ctx, gone.Code, "revoked by mistake")
	if err != nil {
		t.Fatal(err)
	}
	g := certificate.Group

	cases := []struct {
		name, path, acceptLanguage string
		status                     int
		want, absent               []string
	}{
		{"valid, zh by default", "/v/" + g(valid.Code), "", 200,
			[]string{`<html lang="zh-CN">`, "有效：此证书真实有效。", "张伟 &lt;Alice&gt;", "分布式存储运维工程师",
				`lang="en">Distributed Storage Operations Engineer`, "2026-", "颁发日期", "有效期至", "XSKY 学院",
				"认证要求", "通过实验和考试。", `<link rel="icon" href="/v/favicon.svg"`,
				g(valid.Code), "考试", "88%", "70%", `href="/v/` + g(valid.Code) + `.pdf"`, `href="/v/` + g(valid.Code) + `.jwt"`,
				"https://www.linkedin.com/profile/add?", "certId=" + g(valid.Code), `href="/v/` + g(valid.Code) + `?lang=en" hreflang="en" lang="en">English`,
				"<h1>", "/.well-known/jwks.json"},
			[]string{"<script", "张伟 <Alice>", "XSKY Academy", "Pass the labs"}},
		{"valid, en by Accept-Language", "/v/" + g(valid.Code), "en-US,en;q=0.9,zh;q=0.5", 200,
			[]string{`<html lang="en">`, "Valid: this certificate is authentic", "Distributed Storage Operations Engineer",
				"Holder", "Add to LinkedIn profile", "XSKY Academy", "Criteria", "Pass the labs and the exam.", `?lang=zh" hreflang="zh-CN" lang="zh-CN">中文`}, nil},
		{"zh preferred by q", "/v/" + g(valid.Code), "en;q=0.4, zh-CN", 200, []string{`<html lang="zh-CN">`}, nil},
		{"lang parameter beats the header", "/v/" + g(valid.Code) + "?lang=en", "zh-CN", 200, []string{`<html lang="en">`}, nil},
		{"code typed in lower case", "/v/" + strings.ToLower(valid.Code), "", 200, []string{"有效"}, nil},
		{"revoked with reason", "/v/" + g(revoked.Code) + "?lang=en", "", 200,
			[]string{"Revoked: the issuer has revoked", "Reason: exam misconduct &amp; more", `class="status revoked"`},
			[]string{"linkedin.com"}},
		// One word per idea in zh: 已吊销, full-width punctuation, the site's name.
		{"revoked in zh", "/v/" + g(revoked.Code) + "?lang=zh", "", 200,
			[]string{"已吊销：", "原因：exam misconduct &amp; more（2026-", "XSKY 学院"},
			[]string{"已撤销", "原因:", "XSKY Academy", "linkedin.com"}},
		{"a reissue names the revoked one", "/v/" + g(again.Code) + "?lang=zh", "", 200,
			[]string{"有效：", "此证书为重新颁发，替代已吊销的证书", `href="/v/` + g(gone.Code) + `?lang=zh"`}, []string{"revoked by mistake"}},
		{"superseded with a link", "/v/" + g(old.Code) + "?lang=zh", "", 200,
			[]string{"已被取代", `href="/v/` + g(renewed.Code) + `?lang=zh"`}, []string{"linkedin.com"}},
		{"unknown code", "/v/AAAA-BBBB-CCCC-DDDD", "", 404, []string{"未找到证书", `<html lang="zh-CN">`}, []string{"有效："}},
		{"not a code", "/v/%3Cb%3Ehi%3C%2Fb%3E?lang=en", "", 404, []string{"Certificate not found"}, []string{"<b>hi"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.acceptLanguage != "" {
				hdr = []string{"Accept-Language", tc.acceptLanguage}
			}
			r := ts.do(t, "GET", tc.path, "", nil, hdr...)
			body := string(r.body)
			if r.status != tc.status || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				t.Fatalf("%d %s", r.status, r.header.Get("Content-Type"))
			}
			if len(r.body) > maxVerifyPage {
				t.Fatalf("the page is %d bytes, over its %d budget", len(r.body), maxVerifyPage)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("missing %q in\n%s", w, body)
				}
			}
			for _, w := range tc.absent {
				if strings.Contains(body, w) {
					t.Errorf("unexpected %q", w)
				}
			}
			if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("CSP %q", csp)
			}
		})
	}
	// Expired: the signature still holds, the page says so with the date.
	svc.SetClock(func() time.Time { return valid.Expires.Add(time.Hour) })
	r := ts.do(t, "GET", "/v/"+g(valid.Code)+"?lang=en", "", nil)
	if !strings.Contains(string(r.body), "Expired: this certificate is authentic but expired on "+valid.Expires.Format("2006-01-02")) ||
		strings.Contains(string(r.body), "linkedin.com") {
		t.Fatalf("expired page:\n%s", r.body)
	}
}

func TestVerifyPDF(t *testing.T) {
	ts := newTestServer(t)
	c, _ := ts.api.Certificates.Issue(context.Background(), testCertRequest("alice", "Alice"))
	if _, err := os.Stat(certificate.DefaultFont); err == nil {
		r := ts.do(t, "GET", "/v/"+certificate.Group(c.Code)+".pdf", "", nil)
		if r.status != 200 || r.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(r.body), "%PDF-") {
			t.Fatalf("pdf: %d %s", r.status, r.header)
		}
	} else if !testing.Short() {
		t.Fatalf("the PDF font is missing: %v (make test installs it)", err)
	}
	// Without its font, the route says which font is missing instead of failing obscurely.
	ts.api.PDF = &certificate.PDF{FontPath: "/nonexistent/gbsn00lp.ttf"}
	r := ts.do(t, "GET", "/v/"+certificate.Group(c.Code)+".pdf", "", nil)
	if r.status != 503 || r.errorCode(t) != "unavailable" || !strings.Contains(string(r.body), "/nonexistent/gbsn00lp.ttf") {
		t.Fatalf("missing font: %d %s", r.status, r.body)
	}
	if r := ts.do(t, "GET", "/v/AAAA-AAAA-AAAA-AAAA.pdf", "", nil); r.status != 404 {
		t.Fatalf("unknown pdf: %d", r.status)
	}
	if r := ts.do(t, "GET", "/v/AAAA-AAAA-AAAA-AAAA.jwt", "", nil); r.status != 404 {
		t.Fatalf("unknown jwt: %d", r.status)
	}
}

// TestVerifyIcon: the verify page's icon is served (no 404 per view) and is
// the site's own.
func TestVerifyIcon(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do(t, "GET", "/v/favicon.svg", "", nil)
	site, err := os.ReadFile("../../../site/assets/favicon.svg")
	if err != nil {
		t.Fatal(err)
	}
	if r.status != 200 || r.header.Get("Content-Type") != "image/svg+xml" || string(r.body) != string(site) {
		t.Fatalf("icon: %d %s %q; want the site's favicon.svg", r.status, r.header.Get("Content-Type"), r.body)
	}
}

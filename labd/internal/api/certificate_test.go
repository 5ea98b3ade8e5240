package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/certificate"
)

const testSiteURL = "https://academy.test"

func testCertRequest(user, name string) certificate.Request {
	return certificate.Request{
		Program: certificate.Program{
			ID:          "storage-ops",
			Name:        certificate.Text{ZH: "分布式存储运维工程师", EN: "Distributed Storage Operations Engineer"},
			Description: certificate.Text{ZH: "能够运维 XSKY 分布式存储集群。", EN: "Operates XSKY distributed storage clusters."},
			Criteria:    certificate.Text{ZH: "通过实验和考试。", EN: "Pass the labs and the exam."},
			Validity:    730 * 24 * time.Hour,
		},
		Subject:  certificate.Subject{UserID: user, Name: name},
		Results:  []certificate.Result{{Name: certificate.Text{ZH: "考试", EN: "Exam"}, Score: 88, PassMark: 70}},
		Evidence: []certificate.Evidence{{Name: certificate.Text{ZH: "实验记录", EN: "Lab record"}, URL: "/en/labs/ceph-health/"}},
	}
}

func TestCertificateRoutes(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	c, err := ts.api.Certificates.Issue(ctx, testCertRequest("alice", "张伟 <Alice>"))
	if err != nil {
		t.Fatal(err)
	}
	code := certificate.Group(c.Code)
	alice := ts.token(t, "alice", auth.Trainee)
	admin := ts.token(t, "root", auth.Admin)

	// Public JSON status, with any spelling of the code.
	var v certificateView
	r := ts.do(t, "GET", "/api/certificates/"+strings.ToLower(c.Code), "", nil)
	r.json(t, &v)
	if r.status != 200 || v.Status != certificate.Valid || v.Code != code || v.Holder != "张伟 <Alice>" ||
		v.VerifyURL != testSiteURL+"/v/"+code || len(v.Results) != 1 || v.Evidence[0].URL != testSiteURL+"/en/labs/ceph-health/" {
		t.Fatalf("%d %+v", r.status, v)
	}
	if strings.Contains(string(r.body), "alice\"") || strings.Contains(string(r.body), `"user`) {
		t.Fatalf("the public view shows the user id: %s", r.body)
	}
	li, _ := url.Parse(v.LinkedInURL)
	q := li.Query()
	if li.Host != "www.linkedin.com" || q.Get("startTask") != "CERTIFICATION_NAME" || q.Get("certId") != code ||
		q.Get("certUrl") != v.VerifyURL || q.Get("organizationName") != "XSKY Academy" || q.Get("issueYear") != "2026" && q.Get("issueYear") == "" ||
		q.Get("expirationYear") == "" || q.Get("name") == "" {
		t.Fatalf("linkedin %s", v.LinkedInURL)
	}
	for _, bad := range []string{"NOPE", "AAAA-AAAA-AAAA-AAAA", "%3Cscript%3E"} {
		r := ts.do(t, "GET", "/api/certificates/"+bad, "", nil)
		if r.status != 404 || r.errorCode(t) != "not_found" {
			t.Fatalf("%s: %d %s", bad, r.status, r.body)
		}
	}

	// The caller's own certificates.
	var mine []certificateView
	r = ts.do(t, "GET", "/api/me/certificates", alice, nil)
	r.json(t, &mine)
	if len(mine) != 1 || mine[0].Code != code {
		t.Fatalf("mine: %s", r.body)
	}
	r = ts.do(t, "GET", "/api/me/certificates", ts.token(t, "bob", auth.Trainee), nil)
	if r.status != 200 || strings.TrimSpace(string(r.body)) != "[]" {
		t.Fatalf("bob's: %s", r.body)
	}

	// The token and the keys.
	r = ts.do(t, "GET", "/v/"+code+".jwt", "", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/jwt" || string(r.body) != c.JWT {
		t.Fatalf(".jwt: %d %s", r.status, r.header)
	}
	r = ts.do(t, "GET", "/.well-known/jwks.json", "", nil)
	keys, err := certificate.ParseJWKS(r.body)
	if err != nil || !strings.Contains(r.header.Get("Cache-Control"), "public") {
		t.Fatalf("jwks: %v %s", err, r.header)
	}
	if ver, err := (&certificate.Verifier{Keys: keys, Issuer: testSiteURL}).Verify(c.JWT); err != nil || ver.Status != certificate.Valid {
		t.Fatalf("verify with the published keys: %v", err)
	}

	r = ts.do(t, "GET", "/.well-known/jwt-vc-issuer", "", nil)
	var meta map[string]string
	r.json(t, &meta)
	if meta["issuer"] != testSiteURL || meta["jwks_uri"] != testSiteURL+"/.well-known/jwks.json" {
		t.Fatalf("issuer metadata: %s", r.body)
	}

	// Bad revocations leave the certificate as it was.
	for _, tc := range []struct {
		body string
		want int
	}{{`{}`, 400}, {`{"reason":""}`, 400}, {`{"reason":"x","extra":1}`, 400}, {`not json`, 400}} {
		r := ts.do(t, "POST", "/api/certificates/"+code+"/revoke", admin, []byte(tc.body))
		if r.status != tc.want {
			t.Fatalf("revoke %s: %d %s", tc.body, r.status, r.body)
		}
	}
	r = ts.do(t, "POST", "/api/certificates/AAAA-AAAA-AAAA-AAAA/revoke", admin, []byte(`{"reason":"x"}`))
	if r.status != 404 {
		t.Fatalf("revoke unknown: %d", r.status)
	}

	// Renew, then revoke the renewal; the status list says both.
	r = ts.do(t, "POST", "/api/certificates/"+code+"/renew", admin, nil)
	var next certificateView
	r.json(t, &next)
	if r.status != 201 || next.Supersedes != code || next.Status != certificate.Valid {
		t.Fatalf("renew: %d %s", r.status, r.body)
	}
	r = ts.do(t, "POST", "/api/certificates/"+code+"/renew", admin, nil)
	if r.status != 409 || r.errorCode(t) != "conflict" {
		t.Fatalf("renew twice: %d %s", r.status, r.body)
	}
	r = ts.do(t, "GET", "/api/certificates/"+code, "", nil)
	r.json(t, &v)
	if v.Status != certificate.Superseded || v.SupersededBy != next.Code {
		t.Fatalf("old after renew: %s", r.body)
	}
	r = ts.do(t, "POST", "/api/certificates/"+next.Code+"/revoke", admin, []byte(`{"reason":"考试作弊 exam misconduct"}`))
	v = certificateView{}
	r.json(t, &v)
	if r.status != 200 || v.Status != certificate.Revoked || v.RevokeReason != "考试作弊 exam misconduct" || v.LinkedInURL != "" {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	r = ts.do(t, "GET", "/status/revocation/1", "", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/vc+jwt" || r.header.Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("status list: %d %s", r.status, r.header)
	}
	list, err := certificate.ParseStatusList(string(r.body), keys, testSiteURL)
	if err != nil {
		t.Fatal(err)
	}
	nc, _ := ts.api.Certificates.Certificate(ctx, next.Code)
	for _, tc := range []struct {
		jwt string
		set bool
	}{{c.JWT, true}, {nc.JWT, true}} {
		ver, err := (&certificate.Verifier{Keys: keys, Status: list}).Verify(tc.jwt)
		if err != nil || ver.Status != certificate.Revoked {
			t.Fatalf("offline with the served list: %+v %v", ver, err)
		}
	}
	for _, p := range []string{"/status/revocation/x", "/status/revocation/0", "/status/revocation/2"} {
		if r := ts.do(t, "GET", p, "", nil); r.status != 404 {
			t.Fatalf("%s: %d", p, r.status)
		}
	}
}

// TestCertificateIsNoSessionToken: a certificate (typ vc+jwt, another key)
// never signs anybody in, and a session token never verifies as a certificate.
func TestCertificateIsNoSessionToken(t *testing.T) {
	ts := newTestServer(t)
	c, err := ts.api.Certificates.Issue(context.Background(), testCertRequest("root", "Root"))
	if err != nil {
		t.Fatal(err)
	}
	if r := ts.do(t, "GET", "/api/me/certificates", c.JWT, nil); r.status != 401 {
		t.Fatalf("a certificate as a bearer token: %d %s", r.status, r.body)
	}
	session := ts.token(t, "root", auth.Admin)
	if _, err := ts.api.Certificates.Verify(context.Background(), session); err == nil || !strings.Contains(err.Error(), "token type") {
		t.Fatalf("a session token as a certificate: %v", err)
	}
}

// TestVerifyForm: the site's verify form without JavaScript asks for
// /v/?code=X; labd sends the browser to the certificate's page.
func TestVerifyForm(t *testing.T) {
	ts := newTestServer(t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range []struct{ query, want string }{
		{"?code=+abcd-efgh+", "/v/abcd-efgh"},
		{"?code=A%2FB&lang=en", "/v/A%2FB?lang=en"},
		{"?lang=en", "/en/verify/"},
		{"", "/zh/verify/"},
	} {
		req, _ := http.NewRequest("GET", ts.URL+"/v/"+tt.query, nil)
		req.Header.Set("Accept-Language", "zh-CN")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tt.want {
			t.Errorf("/v/%s: %d %q, want 303 %q", tt.query, resp.StatusCode, resp.Header.Get("Location"), tt.want)
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/certificate"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

// TestCertificatesEndToEnd runs labd serve (local runtime: no Docker needed
// for certificates), issues certificates as the exam service will, rotates
// the key with `labd keys rotate` while it runs, revokes through the API,
// saves what a verifier downloads and checks it with `labd cert verify`
// offline.
func TestCertificatesEndToEnd(t *testing.T) {
	data := t.TempDir()
	const site = "https://academy.test"
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--labs", "../labs", "--site", "",
			"--runtime", "local", "--url", site + "/", "--log-level", "warn"}, func(string) string { return "" }, pw, &syncWriter{buf: &stderr})
		pw.Close()
	}()
	var base string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "labd: listening on "); ok {
			base = u
			break
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("labd did not start: exit %d\n%s", <-done, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	t.Cleanup(func() { cancel(); <-done })

	// The exam service's side: the same database and key folder.
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys, err := certificate.OpenKeys(filepath.Join(data, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	svc := certificate.NewService(db, keys, certificate.Issuer{URL: site, Name: issuerName})
	req := func(user, name string) certificate.Request {
		return certificate.Request{
			Program: certificate.Program{ID: "storage-ops",
				Name:        certificate.Text{ZH: "分布式存储运维工程师", EN: "Distributed Storage Operations Engineer"},
				Description: certificate.Text{ZH: "运维 XSKY 分布式存储。", EN: "Operates XSKY distributed storage."},
				Criteria:    certificate.Text{ZH: "通过实验和考试。", EN: "Pass the labs and the exam."},
				Validity:    730 * 24 * time.Hour},
			Subject: certificate.Subject{UserID: user, Name: name},
			Results: []certificate.Result{{Name: certificate.Text{ZH: "考试", EN: "Exam"}, Score: 91, PassMark: 70}},
		}
	}
	first, err := svc.Issue(context.Background(), req("alice", "张伟"))
	if err != nil {
		t.Fatal(err)
	}
	labd := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, func(string) string { return "" }, &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := labd("keys", "rotate", "--data", data); code != 0 || !strings.Contains(out, "new signing key") {
		t.Fatalf("keys rotate: %d %s", code, out)
	}
	second, err := svc.Issue(context.Background(), req("bob", "Bob"))
	if err != nil {
		t.Fatal(err)
	}
	if second.KeyID == first.KeyID {
		t.Fatal("rotation did not change the signing key")
	}
	if code, out := labd("keys", "list", "--data", data); code != 0 || strings.Count(out, "retired") != 1 || strings.Count(out, "signing") != 1 {
		t.Fatalf("keys list: %d %s", code, out)
	}

	get := func(path string) (int, http.Header, []byte) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}
	if st, _, body := get("/v/" + certificate.Group(first.Code) + "?lang=en"); st != 200 || !bytes.Contains(body, []byte("张伟")) {
		t.Fatalf("verify page: %d", st)
	}
	// The running labd publishes the key rotated by the other process.
	st, _, jwks := get("/.well-known/jwks.json")
	if pub, err := certificate.ParseJWKS(jwks); st != 200 || err != nil || len(pub) != 2 {
		t.Fatalf("jwks: %d %v %s", st, err, jwks)
	}

	tokens, err := auth.LoadTokens(data)
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := tokens.Issue(auth.User{ID: "root", Role: auth.Admin}, time.Hour)
	rq, _ := http.NewRequest("POST", base+"/api/certificates/"+certificate.Group(first.Code)+"/revoke", strings.NewReader(`{"reason":"identity fraud"}`))
	rq.Header.Set("Authorization", "Bearer "+admin)
	rq.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(rq)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", resp.Status, err)
	}
	resp.Body.Close()

	dir := t.TempDir()
	save := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	_, _, list := get("/status/revocation/1")
	_, _, jwt1 := get("/v/" + certificate.Group(first.Code) + ".jwt")
	_, _, jwt2 := get("/v/" + certificate.Group(second.Code) + ".jwt")
	jwksFile, listFile := save("jwks.json", jwks), save("status.jwt", list)
	f1, f2 := save("first.jwt", jwt1), save("second.jwt", jwt2)
	parts := strings.Split(string(jwt2), ".")
	forged := save("forged.jwt", []byte(parts[0]+"."+strings.Replace(parts[1], parts[1][10:14], "AAAA", 1)+"."+parts[2]))

	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"valid, with the status list", []string{"cert", "verify", f2, "--jwks", jwksFile, "--status", listFile}, 0,
			[]string{"holder:   Bob", "program:  Distributed Storage Operations Engineer / 分布式存储运维工程师", "issuer:   XSKY Academy (https://academy.test)",
				"status:   valid (status list checked)", "expires:  20", "result:   Exam: 91% (pass mark 70%)"}},
		{"revoked by the status list", []string{"cert", "verify", f1, "--jwks", jwksFile, "--status", listFile}, 1,
			[]string{"holder:   张伟", "status:   revoked (status list checked)", "certificate is not valid: revoked"}},
		{"without the list, revocation is unknown", []string{"cert", "verify", f1, "--jwks", jwksFile}, 0,
			[]string{"revocation not checked"}},
		{"flags first", []string{"cert", "verify", "--jwks", jwksFile, f2}, 0, []string{"valid"}},
		{"the data folder's keys", []string{"cert", "verify", f2, "--data", data}, 0, []string{"valid"}},
		{"forged", []string{"cert", "verify", f2[:0] + forged, "--jwks", jwksFile}, 1, []string{"invalid certificate"}},
		{"wrong issuer", []string{"cert", "verify", f2, "--jwks", jwksFile, "--issuer", "https://other.example"}, 1, []string{"issued by"}},
		{"a status list is no certificate", []string{"cert", "verify", listFile, "--jwks", jwksFile}, 1, []string{"invalid certificate"}},
		{"no keys", []string{"cert", "verify", f2, "--data", filepath.Join(dir, "none")}, 1, []string{"give --jwks"}},
		{"no file", []string{"cert", "verify"}, 2, []string{"usage"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := labd(tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

package certificate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"regexp"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenRequest is a fixed certificate request for golden files.
func goldenCertificate() (*Certificate, *Request, Issuer) {
	is := Issuer{URL: "https://academy.example.com", Name: "XSKY Academy"}
	req := &Request{
		Program: Program{
			ID:          "storage-ops",
			Name:        Text{ZH: "分布式存储运维工程师", EN: "Distributed Storage Operations Engineer"},
			Description: Text{ZH: "能够部署、检查和维护 XSKY 分布式存储集群。", EN: "Can deploy, check and maintain an XSKY distributed storage cluster."},
			Criteria:    Text{ZH: "通过全部实验和考试（70 分及格）。", EN: "Pass every lab and the exam (pass mark 70)."},
			Validity:    730 * 24 * time.Hour,
		},
		Subject: Subject{UserID: "alice", Name: "张伟 Alice Zhang"},
		Results: []Result{
			{Name: Text{ZH: "实验：集群健康检查", EN: "Lab: cluster health"}, Score: 100, PassMark: 100},
			{Name: Text{ZH: "考试", EN: "Exam"}, Score: 86.5, PassMark: 70},
		},
		Evidence: []Evidence{{Name: Text{ZH: "实验记录", EN: "Lab record"}, URL: "https://academy.example.com/zh/labs/ceph-health/"}},
	}
	issued := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	c := &Certificate{
		ID: "urn:uuid:8f6a3c0e-2b1d-4e5f-9a7b-0c1d2e3f4a5b", Code: "ABCDEFGHIJKLMNOP", Program: "storage-ops",
		UserID: "alice", SubjectID: "urn:uuid:1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9", HolderName: "张伟 Alice Zhang",
		Issued: issued, Expires: issued.Add(req.Program.Validity), StatusList: 1, StatusIndex: 94567,
	}
	return c, req, is
}

// TestCredentialGolden pins the credential's JSON: any change to what labd
// signs shows up as a diff (go test -run Golden -update rewrites it).
func TestCredentialGolden(t *testing.T) {
	c, req, is := goldenCertificate()
	got, err := json.MarshalIndent(is.credential(c, req), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	const file = "testdata/credential.golden.json"
	if *update {
		os.WriteFile(file, got, 0o644)
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the credential differs from %s (run with -update if intended):\n%s", file, got)
	}
	var m map[string]any
	json.Unmarshal(got, &m)
	if problems := CheckOpenBadge(m); len(problems) > 0 {
		t.Fatalf("not an Open Badges 3.0 credential: %v", problems)
	}
}

// TestSignedPayloadIsAnOpenBadge checks a signed token's payload: the Open
// Badges shape, the registered claims mirroring the credential, and no
// personal data besides the holder's name (no user id, no e-mail).
func TestSignedPayloadIsAnOpenBadge(t *testing.T) {
	keys, err := OpenKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, _ := keys.signer()
	c, req, is := goldenCertificate()
	req.Subject.UserID = "alice@example.com" // even an e-mail as user id must not leak
	c.UserID = req.Subject.UserID
	tok, err := signCredential(key, is.credential(c, req))
	if err != nil {
		t.Fatal(err)
	}
	var hdr map[string]any
	parts := bytes.Split([]byte(tok), []byte("."))
	json.Unmarshal(mustB64(t, parts[0]), &hdr)
	if len(hdr) != 3 || hdr["alg"] != "EdDSA" || hdr["typ"] != "vc+jwt" || hdr["kid"] != key.ID {
		t.Fatalf("header %v", hdr)
	}
	payload := mustB64(t, parts[1])
	var m map[string]any
	json.Unmarshal(payload, &m)
	if problems := CheckOpenBadge(m); len(problems) > 0 {
		t.Fatalf("not an Open Badges 3.0 credential: %v", problems)
	}
	cs := m["credentialSubject"].(map[string]any)
	mirror := map[string]any{
		"iss": m["issuer"].(map[string]any)["id"], "sub": cs["id"], "jti": m["id"],
		"nbf": float64(c.Issued.Unix()), "exp": float64(c.Expires.Unix()),
	}
	for k, want := range mirror {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if bytes.Contains(payload, []byte("alice")) || regexp.MustCompile(`[\w.+-]+@[\w-]+\.[\w.]+`).Match(payload) {
		t.Fatalf("the payload carries the user id or an e-mail: %s", payload)
	}
}

func mustB64(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := base64.RawURLEncoding.DecodeString(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

package certificate_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestJoseVerifiesIndependently has Node's jose package, an implementation
// that shares no code with labd, verify a certificate against the published
// JWKS: EdDSA, typ vc+jwt, the kid a real RFC 7638 thumbprint, the issuer,
// nbf and exp. Then it checks that jose refuses a tampered one and a
// certificate after its expiry.
func TestJoseVerifiesIndependently(t *testing.T) {
	node := needTool(t, "node", "nodejs")
	dir, _ := filepath.Abs("testdata/jose")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "jose")); err != nil {
		if testing.Short() {
			t.Skip("jose not installed (-short)")
		}
		t.Fatalf("jose is not installed: run `npm ci` in %s (make test does)", dir)
	}
	e := newEnv(t)
	c := e.issue(t, "alice", "张伟 Alice Zhang")
	if _, err := e.keys.Rotate(); err != nil { // the JWKS holds a retired and a current key
		t.Fatal(err)
	}
	tmp := t.TempDir()
	jwks, _ := e.keys.JWKS()
	b, _ := json.Marshal(jwks)
	os.WriteFile(filepath.Join(tmp, "jwks.json"), b, 0o600)
	run := func(token, now string) (string, error) {
		os.WriteFile(filepath.Join(tmp, "cert.jwt"), []byte(token), 0o600)
		cmd := exec.Command(node, filepath.Join(dir, "verify.mjs"), filepath.Join(tmp, "cert.jwt"), filepath.Join(tmp, "jwks.json"), siteURL)
		cmd.Env = append(os.Environ(), "NOW="+now)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	now := c.Issued.Add(time.Hour).Format(time.RFC3339)
	out, err := run(c.JWT, now)
	if err != nil {
		t.Fatalf("jose refused labd's certificate: %v\n%s", err, out)
	}
	var got struct {
		ProtectedHeader map[string]any `json:"protectedHeader"`
		Payload         map[string]any `json:"payload"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.ProtectedHeader["kid"] != c.KeyID || got.ProtectedHeader["typ"] != "vc+jwt" || got.Payload["jti"] != c.ID ||
		got.Payload["credentialSubject"].(map[string]any)["identifier"].([]any)[0].(map[string]any)["identityHash"] != "张伟 Alice Zhang" {
		t.Fatalf("jose saw %+v", got)
	}
	parts := strings.Split(c.JWT, ".")
	bad := parts[0] + "." + parts[1][:len(parts[1])-4] + "AAAA" + "." + parts[2]
	if out, err := run(bad, now); err == nil || !strings.Contains(out, "ERR_JWS") {
		t.Fatalf("jose accepted a tampered certificate: %s", out)
	}
	if out, err := run(c.JWT, c.Expires.Add(time.Hour).Format(time.RFC3339)); err == nil || !strings.Contains(out, "ERR_JWT_EXPIRED") {
		t.Fatalf("jose accepted an expired certificate: %s", out)
	}
}

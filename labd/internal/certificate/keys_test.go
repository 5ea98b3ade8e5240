package certificate_test

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xsky-academy/academy/labd/internal/certificate"
)

func storedKey(t *testing.T, e *env) ed25519.PrivateKey {
	t.Helper()
	kid, err := os.ReadFile(filepath.Join(e.dir, "keys", "signing"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(e.dir, "keys", strings.TrimSpace(string(kid))+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(ed25519.PrivateKey)
}

func TestKeyRotationKeepsOldCertificatesVerifying(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	before := e.issue(t, "alice", "Alice")

	// Rotation as `labd keys rotate` does it: another process, same folder.
	other, err := certificate.OpenKeys(filepath.Join(e.dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	k2, err := other.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if k2.ID == before.KeyID || !k2.Signing {
		t.Fatalf("rotate gave %+v", k2)
	}
	after := e.issue(t, "bob", "Bob")
	if after.KeyID != k2.ID {
		t.Fatalf("the running service signs with %s, not the new key %s", after.KeyID, k2.ID)
	}
	for _, c := range []string{before.JWT, after.JWT} {
		if ver, err := e.svc.Verify(ctx, c); err != nil || ver.Status != certificate.Valid {
			t.Fatalf("after rotation: %v", err)
		}
	}
	keys, err := e.keys.List()
	if err != nil || len(keys) != 2 || !keys[0].Signing || keys[0].ID != k2.ID || keys[1].Signing {
		t.Fatalf("list: %+v %v", keys, err)
	}
	// The JWKS publishes both; a verifier with only the JWKS accepts both.
	set, err := e.keys.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(set)
	pub, err := certificate.ParseJWKS(b)
	if err != nil || len(pub) != 2 {
		t.Fatalf("jwks %s: %v", b, err)
	}
	v := certificate.Verifier{Keys: pub, Issuer: siteURL}
	for _, c := range []string{before.JWT, after.JWT} {
		if _, err := v.Verify(c); err != nil {
			t.Fatalf("offline after rotation: %v", err)
		}
	}
	// Key files are private.
	files, _ := filepath.Glob(filepath.Join(e.dir, "keys", "*"))
	for _, f := range files {
		st, _ := os.Stat(f)
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	if st, _ := os.Stat(filepath.Join(e.dir, "keys")); st.Mode().Perm() != 0o700 {
		t.Errorf("key folder mode %v", st.Mode().Perm())
	}
}

func TestThumbprintRFC7638(t *testing.T) {
	// RFC 8037 appendix A.3: the thumbprint of its Ed25519 example key.
	x := "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
	pub, _ := decodeB64(x)
	if got, want := certificate.Thumbprint(pub), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Fatalf("thumbprint %s, want %s", got, want)
	}
}

func TestParseJWKSRefusesAKidThatIsNotTheThumbprint(t *testing.T) {
	e := newEnv(t)
	set, _ := e.keys.JWKS()
	set.Keys[0].Kid = "someone-elses-kid"
	b, _ := json.Marshal(set)
	if _, err := certificate.ParseJWKS(b); err == nil || !strings.Contains(err.Error(), "thumbprint") {
		t.Fatalf("got %v", err)
	}
	if _, err := certificate.ParseJWKS([]byte(`{"keys":[]}`)); err == nil {
		t.Fatal("an empty JWKS was accepted")
	}
}

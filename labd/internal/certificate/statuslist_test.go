package certificate_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/certificate"
)

func decodeB64(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func TestEncodeList(t *testing.T) {
	set := []int{0, 7, 8, 131071, 4242}
	enc, err := certificate.EncodeList(set)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "u") || len(enc) > 400 {
		t.Fatalf("encoded %d bytes: %.40s", len(enc), enc)
	}
	bits, err := certificate.DecodeList(enc)
	if err != nil || len(bits) != 16384 {
		t.Fatalf("decoded %d bytes: %v", len(bits), err)
	}
	// Bit 0 is the left-most bit of the first byte.
	if bits[0] != 0x81 || bits[1] != 0x80 || bits[16383] != 0x01 {
		t.Fatalf("bytes %x %x %x", bits[0], bits[1], bits[16383])
	}
	if _, err := certificate.EncodeList([]int{131072}); err == nil {
		t.Fatal("an index past the list was accepted")
	}
	short, _ := gzipB64(make([]byte, 1024))
	if _, err := certificate.DecodeList(short); err == nil || !strings.Contains(err.Error(), "fewer than the minimum") {
		t.Fatalf("short list: %v", err)
	}
	if _, err := certificate.DecodeList("z" + enc[1:]); err == nil {
		t.Fatal("a non-base64url multibase was accepted")
	}
}

// TestStatusThroughTheList revokes and renews certificates and checks what
// an offline verifier learns from the signed status list alone.
func TestStatusThroughTheList(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	keep := e.issue(t, "carol", "Carol")
	bad := e.issue(t, "mallory", "Mallory")
	old := e.issue(t, "alice", "张伟")

	if _, err := e.svc.Revoke(ctx, certificate.Group(bad.Code), ""); err == nil {
		t.Fatal("revoked without a reason")
	}
	r, err := e.svc.Revoke(ctx, strings.ToLower(certificate.Group(bad.Code)), "exam misconduct")
	if err != nil || r.RevokeReason != "exam misconduct" || r.Revoked.IsZero() {
		t.Fatalf("revoke: %+v %v", r, err)
	}
	if _, err := e.svc.Revoke(ctx, bad.Code, "again"); certificate.ErrorCodeOf(err) != certificate.EConflict {
		t.Fatalf("second revoke: %v", err)
	}
	if _, err := e.svc.Renew(ctx, bad.Code); certificate.ErrorCodeOf(err) != certificate.EConflict {
		t.Fatalf("renewing a revoked certificate: %v", err)
	}
	e.clock.Add(24 * time.Hour)
	next, err := e.svc.Renew(ctx, old.Code)
	if err != nil {
		t.Fatal(err)
	}
	if next.Supersedes != old.Code || next.Code == old.Code || !next.Issued.After(old.Issued) ||
		!next.Expires.Equal(next.Issued.Add(2*365*24*time.Hour)) || next.HolderName != "张伟" {
		t.Fatalf("renewed: %+v", next)
	}
	if _, err := e.svc.Renew(ctx, old.Code); certificate.ErrorCodeOf(err) != certificate.EConflict {
		t.Fatalf("renewing twice: %v", err)
	}
	// The renewal carries the same program, results and evidence.
	oc, _ := old.Credential()
	nc, _ := next.Credential()
	if !slices.Equal(oc.Results(), nc.Results()) || nc.Evidence[0].ID != siteURL+"/zh/labs/ceph-health/" ||
		nc.CredentialSubject.Achievement.Translations.ZH.Criteria != storageOps().Criteria.ZH {
		t.Fatalf("renewal lost data: %+v", nc)
	}
	// Issue now returns the renewal, the live one.
	if c := e.issue(t, "alice", "张伟"); c.Code != next.Code {
		t.Fatalf("issue after renewal gave %s, want %s", c.Code, next.Code)
	}

	// The service knows reasons and successors.
	for _, tc := range []struct {
		c    *certificate.Certificate
		want certificate.Status
	}{{keep, certificate.Valid}, {bad, certificate.Revoked}, {old, certificate.Superseded}, {next, certificate.Valid}} {
		ver, err := e.svc.Verify(ctx, tc.c.JWT)
		if err != nil || ver.Status != tc.want {
			t.Fatalf("%s: %v %v, want %s", tc.c.HolderName, ver, err, tc.want)
		}
		if tc.want == certificate.Revoked && ver.Reason != "exam misconduct" {
			t.Fatalf("reason %q", ver.Reason)
		}
		if tc.want == certificate.Superseded && ver.SupersededBy != next.Code {
			t.Fatalf("superseded by %q", ver.SupersededBy)
		}
	}

	// Offline: the signed list alone says revoked for both bad and old.
	tok, err := e.svc.StatusList(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if h := header(t, tok); h["typ"] != "vc+jwt" || h["alg"] != "EdDSA" {
		t.Fatalf("status list header %v", h)
	}
	list, err := certificate.ParseStatusList(tok, e.keys, siteURL)
	if err != nil {
		t.Fatal(err)
	}
	v := certificate.Verifier{Keys: e.keys, Status: list, Now: e.clock.Now}
	for _, tc := range []struct {
		c    *certificate.Certificate
		want certificate.Status
	}{{keep, certificate.Valid}, {bad, certificate.Revoked}, {old, certificate.Revoked}, {next, certificate.Valid}} {
		ver, err := v.Verify(tc.c.JWT)
		if err != nil || ver.Status != tc.want || !ver.StatusChecked {
			t.Fatalf("%s offline: %+v %v, want %s", tc.c.HolderName, ver, err, tc.want)
		}
	}
	// Expiry wins over a clean bit.
	e.clock.Add(3 * 365 * 24 * time.Hour)
	if ver, err := v.Verify(keep.JWT); err != nil || ver.Status != certificate.Expired {
		t.Fatalf("expired offline: %+v %v", ver, err)
	}
	// A status list is a vc+jwt too, but not a certificate, and vice versa.
	if _, err := v.Verify(tok); err == nil {
		t.Fatal("a status list verified as a certificate")
	}
	if _, err := certificate.ParseStatusList(keep.JWT, e.keys, siteURL); err == nil {
		t.Fatal("a certificate parsed as a status list")
	}
}

func gzipB64(b []byte) (string, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		return "", err
	}
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

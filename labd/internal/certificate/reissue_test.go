package certificate_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/certificate"
)

// TestRevocationHolds: once a holder's newest certificate of a program is
// revoked, Issue refuses (ERevoked, with the reason) even when the request
// is the same, also when the revoked one had expired; other programs and
// other users are not affected. Only Reissue issues again, once, from the
// revoked record; and a revocation of the reissue holds again.
func TestRevocationHolds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.issue(t, "alice", "Alice")
	if _, err := e.svc.Revoke(ctx, a.Code, "exam sat by someone else"); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Issue(ctx, request("alice", "Alice"))
	if certificate.ErrorCodeOf(err) != certificate.ERevoked || !contains(err.Error(), "exam sat by someone else", certificate.Group(a.Code)) {
		t.Fatalf("issue after a revocation: %v", err)
	}
	// Concurrent claims after the revocation: none gets through.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c, err := e.svc.Issue(ctx, request("alice", "Alice")); certificate.ErrorCodeOf(err) != certificate.ERevoked {
				t.Errorf("a concurrent issue after the revocation: %v %v", c, err)
			}
		}()
	}
	wg.Wait()
	if list, _ := e.svc.ForUser(ctx, "alice"); len(list) != 1 {
		t.Fatalf("alice has %d certificates, want the revoked one only", len(list))
	}
	// Past the revoked one's expiry the revocation still holds.
	e.clock.Add(3 * 365 * 24 * time.Hour)
	if _, err := e.svc.Issue(ctx, request("alice", "Alice")); certificate.ErrorCodeOf(err) != certificate.ERevoked {
		t.Fatalf("issue after the revoked one expired: %v", err)
	}
	other := request("alice", "Alice")
	other.Program.ID = "other-program"
	if _, err := e.svc.Issue(ctx, other); err != nil {
		t.Errorf("another program: %v", err)
	}
	e.issue(t, "bob", "Bob")

	// Reissue: admins only decide (the API's route); here its rules.
	for _, tc := range []struct{ code, reason, want string }{
		{a.Code, "", certificate.EInvalid},
		{"AAAA-BBBB-CCCC-DDDD", "x", certificate.ENotFound},
	} {
		if _, err := e.svc.Reissue(ctx, tc.code, tc.reason); certificate.ErrorCodeOf(err) != tc.want {
			t.Errorf("reissue %q %q: %v, want %s", tc.code, tc.reason, err, tc.want)
		}
	}
	b, _ := e.svc.Latest(ctx, "storage-ops", "bob")
	if _, err := e.svc.Reissue(ctx, b.Code, "x"); certificate.ErrorCodeOf(err) != certificate.EConflict {
		t.Errorf("reissue a valid certificate: %v", err)
	}
	r, err := e.svc.Reissue(ctx, a.Code, "revoked by mistake")
	if err != nil {
		t.Fatal(err)
	}
	if r.ReissueOf != a.Code || r.ReissueReason != "revoked by mistake" || r.HolderName != "Alice" || e.svc.Status(r) != certificate.Valid ||
		!r.Expires.Equal(r.Issued.Add(2*365*24*time.Hour)) || r.SubjectID != a.SubjectID {
		t.Fatalf("reissued: %+v", r)
	}
	cred, _ := r.Credential()
	if res := cred.Results(); len(res) != 2 || res[1].Score != 86.5 {
		t.Errorf("the reissue's results: %+v", res)
	}
	if old, _ := e.svc.Certificate(ctx, a.Code); e.svc.Status(old) != certificate.Revoked {
		t.Errorf("the revoked one after its reissue: %s", e.svc.Status(old))
	}
	if _, err := e.svc.Reissue(ctx, a.Code, "again"); certificate.ErrorCodeOf(err) != certificate.EConflict {
		t.Errorf("reissue twice: %v", err)
	}
	if got := e.issue(t, "alice", "Alice"); got.Code != r.Code {
		t.Errorf("issue after the reissue: %s, want the reissue %s", got.Code, r.Code)
	}
	if last, _ := e.svc.Latest(ctx, "storage-ops", "alice"); last.Code != r.Code {
		t.Errorf("latest: %s, want %s", last.Code, r.Code)
	}
	// The reissue revoked too: it holds again, and the first one is not reissued.
	if _, err := e.svc.Revoke(ctx, r.Code, "again"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Issue(ctx, request("alice", "Alice")); certificate.ErrorCodeOf(err) != certificate.ERevoked {
		t.Errorf("issue after the reissue's revocation: %v", err)
	}
	if _, err := e.svc.Reissue(ctx, a.Code, "older"); certificate.ErrorCodeOf(err) != certificate.EConflict {
		t.Errorf("reissue a revoked certificate that is not the newest: %v", err)
	}
	// Its status list bit stays set: verifiers offline keep refusing it.
	ver, err := e.svc.Verify(ctx, a.JWT)
	if err != nil || ver.Status != certificate.Revoked {
		t.Errorf("verify the revoked one: %+v %v", ver, err)
	}
}

// TestRenewOnlyTheNewest: an expired certificate with a newer, revoked one
// after it is not renewed (that would step around the revocation).
func TestRenewOnlyTheNewest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.issue(t, "alice", "Alice")
	e.clock.Add(3 * 365 * 24 * time.Hour)
	b := e.issue(t, "alice", "Alice")
	if _, err := e.svc.Revoke(ctx, b.Code, "misconduct"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Renew(ctx, a.Code); certificate.ErrorCodeOf(err) != certificate.EConflict || !strings.Contains(err.Error(), certificate.Group(b.Code)) {
		t.Fatalf("renew the older, expired certificate: %v", err)
	}
	if _, err := e.svc.Issue(ctx, request("alice", "Alice")); certificate.ErrorCodeOf(err) != certificate.ERevoked {
		t.Errorf("issue: %v", err)
	}
}

// TestRenewedAndExpiredStand: after a renewal the newest is the renewal;
// after an expiry a new issue is allowed.
func TestRenewedAndExpiredStand(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.issue(t, "alice", "Alice")
	n, err := e.svc.Renew(ctx, a.Code)
	if err != nil {
		t.Fatal(err)
	}
	if last, _ := e.svc.Latest(ctx, "storage-ops", "alice"); last.Code != n.Code {
		t.Errorf("latest after a renewal: %s, want %s", last.Code, n.Code)
	}
	e.clock.Add(3 * 365 * 24 * time.Hour)
	if c := e.issue(t, "alice", "Alice"); c.Code == n.Code || e.svc.Status(c) != certificate.Valid {
		t.Errorf("issue after an expiry: %+v", c)
	}
}

func contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/certissuer"
	"github.com/xsky-academy/academy/labd/internal/exam"
)

// claimErrorBody is a 409 from a claim: the code, the words, the details.
type claimErrorBody struct {
	Error struct {
		Code    string
		Message string
		Details struct {
			Missing     []exam.Missing
			Certificate struct {
				Code         string `json:"code"`
				RevokeReason string `json:"revoke_reason"`
			}
		}
	}
}

// TestRevocationHoldsAgainstTheHolder runs the real certificate service
// behind the claim: a revoked certificate stands in the program, a claim
// and a class's bulk issuance refuse to issue again, renewal is refused,
// an admin's reissue issues again (once), and after an expiry a claim
// issues anew.
func TestRevocationHoldsAgainstTheHolder(t *testing.T) {
	ts := newTestServer(t)
	ts.api.Exams.Issuer = &certissuer.Issuer{Certs: ts.api.Certificates, Labs: ts.api.Labs.Catalog()}
	now := time.Now()
	clock := func() time.Time { return now }
	ts.api.Certificates.SetClock(clock)
	ts.api.Exams.Now = clock
	lee := ts.token(t, "lee", auth.Lecturer)
	admin := ts.token(t, "root", auth.Admin)
	id := ts.classWith(t, lee, "Ada,ada@example.com\n")
	ts.acc.add("ada@example.com", "u-ada")
	ada := ts.token(t, "u-ada", auth.Trainee)
	completeProgram(t, ts, "u-ada")

	claim := func(want int) (claimView, claimErrorBody) {
		t.Helper()
		r := ts.do(t, "POST", "/api/programs/demo/claim", ada, nil)
		if r.status != want {
			t.Fatalf("claim: %d %s, want %d", r.status, r.body, want)
		}
		var c claimView
		var e claimErrorBody
		if want < 300 {
			r.json(t, &c)
		} else {
			r.json(t, &e)
		}
		return c, e
	}
	program := func() programProgressView {
		t.Helper()
		var pv programProgressView
		ts.do(t, "GET", "/api/programs/demo", ada, nil).json(t, &pv)
		return pv
	}
	first, _ := claim(http.StatusCreated)

	if r := ts.do(t, "POST", "/api/certificates/"+first.Code+"/revoke", admin, []byte(`{"reason":"exam sat by someone else"}`)); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	pv := program()
	if pv.Complete || pv.Certificate == nil || pv.Certificate.Code != first.Code || pv.Certificate.Status != "revoked" ||
		pv.Certificate.RevokeReason != "exam sat by someone else" || pv.Certificate.RevokedAt == nil {
		t.Fatalf("the program after the revocation: complete %v, certificate %+v", pv.Complete, pv.Certificate)
	}
	_, e := claim(http.StatusConflict)
	if e.Error.Code != "revoked" || !strings.Contains(e.Error.Message, "exam sat by someone else") ||
		e.Error.Details.Certificate.Code != first.Code || e.Error.Details.Certificate.RevokeReason != "exam sat by someone else" {
		t.Fatalf("claim after the revocation: %+v", e)
	}
	if r := ts.do(t, "POST", "/api/classes/"+id+"/certificates", lee, []byte(`{"program":"demo"}`)); r.status != 200 ||
		!strings.Contains(string(r.body), `"status":"revoked"`) || !strings.Contains(string(r.body), `"revoke_reason":"exam sat by someone else"`) {
		t.Fatalf("bulk issuance for a revoked trainee: %d %s", r.status, r.body)
	}
	var mine []certificateView
	ts.do(t, "GET", "/api/me/certificates", ada, nil).json(t, &mine)
	if len(mine) != 1 || mine[0].Status != "revoked" {
		t.Fatalf("ada's certificates after the refused claims: %+v", mine)
	}
	if r := ts.do(t, "POST", "/api/certificates/"+first.Code+"/renew", admin, nil); r.status != http.StatusConflict {
		t.Errorf("renew a revoked certificate: %d %s", r.status, r.body)
	}

	// Only an admin reissues, with a reason; the new certificate names the old.
	if r := ts.do(t, "POST", "/api/certificates/"+first.Code+"/reissue", ada, []byte(`{"reason":"mine"}`)); r.status != http.StatusForbidden {
		t.Errorf("the holder reissues: %d", r.status)
	}
	if r := ts.do(t, "POST", "/api/certificates/"+first.Code+"/reissue", admin, []byte(`{}`)); r.status != http.StatusBadRequest {
		t.Errorf("reissue without a reason: %d %s", r.status, r.body)
	}
	r := ts.do(t, "POST", "/api/certificates/"+first.Code+"/reissue", admin, []byte(`{"reason":"revoked by mistake"}`))
	var re certificateView
	if r.status != http.StatusCreated {
		t.Fatalf("reissue: %d %s", r.status, r.body)
	}
	r.json(t, &re)
	if re.Status != "valid" || re.ReissueOf != first.Code || re.Code == first.Code || re.Holder == "" {
		t.Fatalf("reissued: %+v", re)
	}
	if r := ts.do(t, "POST", "/api/certificates/"+first.Code+"/reissue", admin, []byte(`{"reason":"again"}`)); r.status != http.StatusConflict {
		t.Errorf("reissue twice: %d %s", r.status, r.body)
	}
	var old certificateView
	ts.do(t, "GET", "/api/certificates/"+first.Code, "", nil).json(t, &old)
	if old.Status != "revoked" {
		t.Errorf("the revoked certificate after its reissue: %s", old.Status)
	}
	if c, _ := claim(http.StatusOK); c.Code != re.Code || c.New {
		t.Errorf("claim after the reissue: %+v", c)
	}

	// Superseded: the holder has the renewal.
	r = ts.do(t, "POST", "/api/certificates/"+re.Code+"/renew", admin, nil)
	var renewed certificateView
	r.json(t, &renewed)
	if pv := program(); r.status != http.StatusCreated || pv.Certificate.Code != renewed.Code || pv.Certificate.Status != "valid" || !pv.Complete {
		t.Fatalf("the program after a renewal: %d, %+v", r.status, pv.Certificate)
	}

	// Expired: a claim issues anew while the requirements hold.
	now = now.AddDate(3, 0, 0)
	if pv := program(); pv.Certificate.Code != renewed.Code || pv.Certificate.Status != "expired" || !pv.Complete {
		t.Fatalf("the program after the expiry: %+v", pv.Certificate)
	}
	if c, _ := claim(http.StatusCreated); c.Code == renewed.Code || !c.New {
		t.Errorf("claim after the expiry: %+v", c)
	}
}

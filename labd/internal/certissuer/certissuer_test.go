package certissuer_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xsky-academy/academy/labd/internal/certificate"
	"github.com/xsky-academy/academy/labd/internal/certissuer"
	"github.com/xsky-academy/academy/labd/internal/exam"
	"github.com/xsky-academy/academy/labd/internal/lab"
	"github.com/xsky-academy/academy/labd/internal/lab/labtest"
	"github.com/xsky-academy/academy/labd/internal/sqlite"
)

// TestIssuer: on the real certificate service and SQLite, a claim's
// certificate names its labs by their titles in both languages and prints
// the holder's name; Standing follows the newest certificate through a
// revocation, which Issue then refuses with exam's code.
func TestIssuer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "labd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keys, err := certificate.OpenKeys(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	certs := certificate.NewService(db, keys, certificate.Issuer{URL: "https://academy.test", Name: "XSKY Academy"})
	demo := labtest.Lab("demo")
	demo.Title = lab.Text{ZH: "集群健康检查", EN: "Cluster health"}
	is := &certissuer.Issuer{Certs: certs, Labs: lab.NewCatalog(demo),
		Name: func(_ context.Context, user string) string { return map[string]string{"ada": "Ada Lovelace"}[user] }}

	if h, err := is.Standing(ctx, "ada", "ops"); h != nil || err != nil {
		t.Fatalf("standing before any: %+v %v", h, err)
	}
	now := time.Now()
	req := exam.IssueRequest{User: "ada", Program: "ops", Title: lab.Text{ZH: "运维", EN: "Ops"},
		Description: lab.Text{ZH: "描述", EN: "Description"}, Criteria: lab.Text{ZH: "标准", EN: "Criteria"},
		Issued: now, ValidUntil: now.AddDate(2, 0, 0), ExamScore: 90, PassMark: 70,
		Labs: []exam.LabEvidence{{Lab: "demo", Session: "s1"}}}
	code, err := is.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	c, err := certs.Certificate(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	cred, _ := c.Credential()
	res := cred.Results()
	if c.HolderName != "Ada Lovelace" || len(res) != 2 || res[1].Name != (certificate.Text{ZH: "实验：集群健康检查", EN: "Lab: Cluster health"}) ||
		cred.Evidence[0].Text() != res[1].Name {
		t.Fatalf("certificate: holder %q, results %+v, evidence %+v", c.HolderName, res, cred.Evidence)
	}
	if h, _ := is.Standing(ctx, "ada", "ops"); h == nil || h.Code != code || h.Status != exam.HeldValid {
		t.Fatalf("standing: %+v", h)
	}
	if _, err := certs.Revoke(ctx, code, "misconduct"); err != nil {
		t.Fatal(err)
	}
	if h, _ := is.Standing(ctx, "ada", "ops"); h == nil || h.Status != exam.HeldRevoked || h.Reason != "misconduct" || h.RevokedAt.IsZero() {
		t.Fatalf("standing after the revocation: %+v", h)
	}
	if _, err := is.Issue(ctx, req); lab.ErrorCodeOf(err) != exam.ERevoked || !strings.Contains(err.Error(), "misconduct") {
		t.Fatalf("issue after the revocation: %v", err)
	}
}

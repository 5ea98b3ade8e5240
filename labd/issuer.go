package main

import (
	"context"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/certificate"
	"github.com/xsky-academy/academy/labd/internal/exam"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// certIssuer lets the exam service issue certificates: it turns a claimed
// program into a certificate request (the holder's name from their account,
// the exam and the labs as results and evidence).
type certIssuer struct {
	certs    *certificate.Service
	accounts *auth.Accounts
	labs     *lab.Catalog // for the labs' titles
}

var _ exam.Issuer = certIssuer{}

func (c certIssuer) Issue(ctx context.Context, req exam.IssueRequest) (string, error) {
	name := req.User
	if acc, err := c.accounts.Get(ctx, req.User); err == nil && acc != nil && acc.Name != "" {
		name = acc.Name
	}
	r := certificate.Request{
		Program: certificate.Program{
			ID: req.Program, Name: certificate.Text(req.Title), Description: certificate.Text(req.Description),
			Criteria: certificate.Text(req.Criteria), Validity: req.ValidUntil.Sub(req.Issued),
		},
		Subject: certificate.Subject{UserID: req.User, Name: name},
		Results: []certificate.Result{{Name: certificate.Text{ZH: "认证考试", EN: "Certification exam"},
			Score: float64(req.ExamScore), PassMark: float64(req.PassMark)}},
	}
	if req.ValidUntil.IsZero() {
		r.Program.Validity = 0
	}
	for _, l := range req.Labs {
		title := certificate.Text{ZH: l.Lab, EN: l.Lab}
		if def, ok := c.labs.Lab(l.Lab); ok {
			title = certificate.Text(def.Title)
		}
		name := certificate.Text{ZH: "实验：" + title.ZH, EN: "Lab: " + title.EN}
		r.Results = append(r.Results, certificate.Result{Name: name, Score: 100, PassMark: 100})
		r.Evidence = append(r.Evidence, certificate.Evidence{Name: name, URL: "/en/labs/" + l.Lab + "/"})
	}
	cert, err := c.certs.Issue(ctx, r)
	if err != nil {
		return "", err
	}
	return certificate.Group(cert.Code), nil
}

func (c certIssuer) Held(ctx context.Context, user, program string) (string, error) {
	held, err := c.certs.ForUser(ctx, user)
	if err != nil {
		return "", err
	}
	for _, cert := range held {
		if cert.Program == program && c.certs.Status(cert) == certificate.Valid {
			return certificate.Group(cert.Code), nil
		}
	}
	return "", nil
}

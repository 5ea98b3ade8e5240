// Package certissuer lets the exam service issue certificates: it turns a
// claimed program into a certificate request (the holder's name, the exam
// and the labs as results and evidence, labs named by their titles) and
// tells the exam service which certificate stands for a user.
package certissuer

import (
	"context"
	"errors"

	"github.com/xsky-academy/academy/labd/internal/certificate"
	"github.com/xsky-academy/academy/labd/internal/exam"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// Issuer is an exam.Issuer on a certificate.Service.
type Issuer struct {
	Certs *certificate.Service
	Labs  *lab.Catalog // for the labs' titles
	// Name returns the holder's name as printed; "" prints the user id.
	Name func(ctx context.Context, user string) string
}

var _ exam.Issuer = (*Issuer)(nil)

// Issue issues user's certificate; a revoked one standing is refused with
// exam.ERevoked.
func (c *Issuer) Issue(ctx context.Context, req exam.IssueRequest) (string, error) {
	name := ""
	if c.Name != nil {
		name = c.Name(ctx, req.User)
	}
	if name == "" {
		name = req.User
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
		if def, ok := c.Labs.Lab(l.Lab); ok {
			title = certificate.Text(def.Title)
		}
		name := certificate.Text{ZH: "实验：" + title.ZH, EN: "Lab: " + title.EN}
		r.Results = append(r.Results, certificate.Result{Name: name, Score: 100, PassMark: 100})
		r.Evidence = append(r.Evidence, certificate.Evidence{Name: name, URL: "/en/labs/" + l.Lab + "/"})
	}
	cert, err := c.Certs.Issue(ctx, r)
	if certificate.ErrorCodeOf(err) == certificate.ERevoked {
		return "", &lab.Error{Code: exam.ERevoked, Message: err.Error()}
	}
	if err != nil {
		return "", err
	}
	return certificate.Group(cert.Code), nil
}

// Standing returns user's newest certificate of program, nil if none.
func (c *Issuer) Standing(ctx context.Context, user, program string) (*exam.Holding, error) {
	cert, err := c.Certs.Latest(ctx, program, user)
	if errors.Is(err, certificate.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &exam.Holding{
		Code: certificate.Group(cert.Code), Status: string(c.Certs.Status(cert)),
		Reason: cert.RevokeReason, RevokedAt: cert.Revoked, Expires: cert.Expires,
	}, nil
}

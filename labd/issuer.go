package main

import (
	"context"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/certificate"
	"github.com/xsky-academy/academy/labd/internal/certissuer"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// newCertIssuer lets the exam service issue certificates, with the holder's
// name from their account.
func newCertIssuer(certs *certificate.Service, accounts *auth.Accounts, labs *lab.Catalog) *certissuer.Issuer {
	return &certissuer.Issuer{Certs: certs, Labs: labs, Name: func(ctx context.Context, user string) string {
		if acc, err := accounts.Get(ctx, user); err == nil && acc != nil {
			return acc.Name
		}
		return ""
	}}
}

package auth

import (
	"context"
	"errors"
)

// RosterInvites adapts Accounts to what the classes work needs (class.Accounts):
// an invitation link per trainee of a roster, and which e-mails already have
// accounts. The links are paths on the site, in Lang (zh if empty).
type RosterInvites struct {
	Accounts *Accounts
	Lang     string
}

// Invite invites a trainee for class and returns the link to send them:
// /<lang>/invite/#<token> (the secret in the fragment), or the sign-in page
// when they already have an active account.
func (r RosterInvites) Invite(ctx context.Context, email, name, class string) (string, error) {
	lang := r.Lang
	if lang == "" {
		lang = "zh"
	}
	// The class service has already checked that its lecturer may do this;
	// the invitation records the class as who invited.
	by := User{ID: "class:" + class, Role: Lecturer}
	inv, err := r.Accounts.Invite(ctx, by, InviteRequest{Email: email, Name: name, Role: Trainee, Class: class})
	if err != nil {
		return "", err
	}
	if inv.Token == "" {
		return "/" + lang + "/login/", nil
	}
	return "/" + lang + "/invite/#" + inv.Token, nil
}

// Users maps those of emails that have accounts (active or invited) to their ids.
func (r RosterInvites) Users(ctx context.Context, emails []string) (map[string]string, error) {
	out := make(map[string]string, len(emails))
	for _, e := range emails {
		acc, err := r.Accounts.ByEmail(ctx, e)
		var ae *Error
		switch {
		case errors.As(err, &ae) && (ae.Code == ENotFound || ae.Code == EInvalid):
			continue
		case err != nil:
			return nil, err
		}
		out[e] = acc.ID
	}
	return out, nil
}

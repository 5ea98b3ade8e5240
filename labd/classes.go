package main

import (
	"context"
	"errors"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/class"
)

// classAccounts is class.Accounts on labd's user accounts: a roster's
// trainees are invited (an account made, a link to set its password), and a
// trainee's account counts once it is active.
type classAccounts struct {
	accounts *auth.Accounts
}

var _ class.Accounts = classAccounts{}

// Invite invites a trainee on behalf of the class's lecturer (or the admin
// importing the roster). The link's secret is in the fragment, which
// browsers never send to a server; the API sets its language.
func (a classAccounts) Invite(ctx context.Context, by class.Who, email, name, classID string) (string, error) {
	role := auth.Lecturer
	if by.Admin {
		role = auth.Admin
	}
	inv, err := a.accounts.Invite(ctx, auth.User{ID: by.User, Role: role},
		auth.InviteRequest{Email: email, Name: name, Role: auth.Trainee, Class: classID})
	if err != nil {
		return "", err
	}
	if inv.Token == "" {
		return "", nil // an active account: they sign in
	}
	return "/zh/invite/#" + inv.Token, nil
}

// Users maps the e-mail addresses of active accounts to their ids.
func (a classAccounts) Users(ctx context.Context, emails []string) (map[string]string, error) {
	out := make(map[string]string, len(emails))
	for _, e := range emails {
		acc, err := a.accounts.ByEmail(ctx, e)
		var ae *auth.Error
		switch {
		case errors.As(err, &ae) && ae.Code == auth.ENotFound:
			continue
		case err != nil:
			return nil, err
		}
		if acc.Active() {
			out[e] = acc.ID
		}
	}
	return out, nil
}

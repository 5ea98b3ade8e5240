package auth

import (
	"context"
	"time"
)

// An admin deactivates an account (it can no longer sign in, its sign-ins
// end and its tokens are refused at once), activates it again, or deletes
// it: a tombstone keeps the id (lab sessions, exam attempts and certificates
// name it) while the e-mail, name, password, sign-ins, invitations and roster
// entries go. Certificates stay valid and verifiable. The caller ends the
// account's lab sessions (the API does, through the lab service).

// Deactivate stops the account with id from signing in and ends its sign-ins.
// The last active admin cannot be deactivated.
func (a *Accounts) Deactivate(ctx context.Context, id string) (*Account, error) {
	acc, err := a.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !acc.Disabled.IsZero() {
		return acc, nil
	}
	if err := a.keepAnAdmin(ctx, acc); err != nil {
		return nil, err
	}
	at := a.now().UTC().Truncate(time.Millisecond)
	if err := a.store.SetDisabled(ctx, id, at); err != nil {
		return nil, err
	}
	acc.Disabled = at
	return acc, nil
}

// Activate lets a deactivated account sign in again (with its old password).
func (a *Accounts) Activate(ctx context.Context, id string) (*Account, error) {
	acc, err := a.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if acc.Disabled.IsZero() {
		return acc, nil
	}
	if err := a.store.SetDisabled(ctx, id, time.Time{}); err != nil {
		return nil, err
	}
	acc.Disabled = time.Time{}
	return acc, nil
}

// Delete removes the account's personal data and leaves its tombstone. The
// last active admin cannot be deleted.
func (a *Accounts) Delete(ctx context.Context, id string) error {
	acc, err := a.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := a.keepAnAdmin(ctx, acc); err != nil {
		return err
	}
	return a.store.DeleteAccount(ctx, id, a.now().UTC().Truncate(time.Millisecond))
}

// CheckActive refuses a token whose user has an account that is
// deactivated or deleted. A token may name someone with no account (a
// script's): that is no reason to refuse it.
func (a *Accounts) CheckActive(ctx context.Context, id string) error {
	acc, err := a.store.Account(ctx, id)
	if err != nil {
		return err
	}
	if acc != nil && (!acc.Disabled.IsZero() || !acc.Deleted.IsZero()) {
		return Errorf(EUnauthorized, "this account is deactivated")
	}
	return nil
}

// keepAnAdmin refuses to take acc away as an admin (by a role change,
// deactivation or deletion) when it is the last active one: someone must be
// left to manage users.
func (a *Accounts) keepAnAdmin(ctx context.Context, acc *Account) error {
	if acc.Role != Admin || !acc.Active() {
		return nil
	}
	all, err := a.store.Accounts(ctx)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.ID != acc.ID && o.Role == Admin && o.Active() {
			return nil
		}
	}
	return Errorf(EConflict, "%s is the last admin: make someone else admin first", acc.Email)
}

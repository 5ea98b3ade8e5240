package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/xsky-academy/academy/labd/internal/auth"
	"github.com/xsky-academy/academy/labd/internal/lab"
)

// The browser's sign-in: labd_session holds the secret id (HttpOnly, so no
// script can read it); labd_csrf holds the token unsafe requests echo in
// X-CSRF-Token, which a page of another site can neither read nor send.
const (
	sessionCookie = "labd_session"
	csrfCookie    = "labd_csrf"
	csrfHeader    = "X-CSRF-Token"
)

type userView struct {
	ID      string    `json:"id"`
	Email   string    `json:"email,omitempty"`
	Name    string    `json:"name,omitempty"`
	Role    auth.Role `json:"role"`
	Created time.Time `json:"created,omitzero"`
	// Active is whether the user can sign in: false while their invitation
	// is not accepted, or when deactivated. State says which.
	Active      *bool     `json:"active,omitempty"`
	State       string    `json:"state,omitempty"` // active, invited, deactivated
	Deactivated time.Time `json:"deactivated_at,omitzero"`
}

// adminUserView is the account as the users list shows it to an admin.
func adminUserView(a *auth.Account) userView {
	v := newUserView(a)
	active := a.Active()
	v.Created, v.Active, v.State, v.Deactivated = a.Created, &active, a.State(), a.Disabled
	return v
}

func newUserView(a *auth.Account) userView {
	return userView{ID: a.ID, Email: a.Email, Name: a.Name, Role: a.Role}
}

type signedInView struct {
	User userView `json:"user"`
	CSRF string   `json:"csrf"`
}

func (s *Server) accounts() (*auth.Accounts, error) {
	if s.Accounts == nil {
		return nil, &httpError{http.StatusNotFound, "not_found", "this labd has no accounts"}
	}
	return s.Accounts, nil
}

// setSession sets both cookies, ending the browser's previous sign-in if it
// had one. Secure when the request came over TLS (a proxy that ends TLS must
// pass plain HTTP only on a trusted hop).
func (s *Server) setSession(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	if old, err := r.Cookie(sessionCookie); err == nil {
		s.Accounts.Logout(r.Context(), old.Value)
	}
	maxAge := int(s.Accounts.MaxLoginAge.Seconds())
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.ID, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: sess.CSRF, Path: "/", MaxAge: maxAge,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

func clearSession(w http.ResponseWriter, r *http.Request) {
	for _, name := range []string{sessionCookie, csrfCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: name == sessionCookie, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	}
}

// clientIP is the peer's address. X-Forwarded-For is not trusted: anyone
// can send it, and it would let a guesser pick a fresh address per try.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// readJSONStrict is readJSON for routes used before sign-in: the body must
// be declared JSON, which a form on another site cannot send without CORS
// (so it cannot sign a browser in to the attacker's account).
func readJSONStrict(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return &httpError{http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json"}
	}
	return readJSON(r, v)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	accounts, err := s.accounts()
	if err != nil {
		return err
	}
	var req struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := readJSONStrict(r, &req); err != nil {
		return err
	}
	acc, sess, err := accounts.Login(r.Context(), req.Email, req.Password, clientIP(r))
	var ae *auth.Error
	switch {
	case err == nil:
		s.logins.WithLabelValues("ok").Inc()
	case errors.As(err, &ae) && ae.Code == auth.EUnauthorized:
		s.logins.WithLabelValues("wrong").Inc()
	case errors.As(err, &ae) && ae.Code == auth.ELimit:
		s.logins.WithLabelValues("limited").Inc()
	}
	if err != nil {
		return err
	}
	s.setSession(w, r, sess)
	return writeJSON(w, http.StatusOK, signedInView{User: newUserView(acc), CSRF: sess.CSRF})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil && s.Accounts != nil {
		if err := s.Accounts.Logout(r.Context(), c.Value); err != nil {
			return err
		}
	}
	clearSession(w, r)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	u, _ := auth.FromContext(r.Context())
	v := userView{ID: u.ID, Role: u.Role}
	// A script's token may name someone with no account: then id and role are all there is.
	if s.Accounts != nil {
		if acc, err := s.Accounts.Get(r.Context(), u.ID); err == nil {
			v.Email, v.Name = acc.Email, acc.Name
		}
	}
	return writeJSON(w, http.StatusOK, map[string]userView{"user": v})
}

func (s *Server) invite(w http.ResponseWriter, r *http.Request) error {
	accounts, err := s.accounts()
	if err != nil {
		return err
	}
	var req struct {
		Email string    `json:"email"`
		Name  string    `json:"name"`
		Role  auth.Role `json:"role"`
		Lang  string    `json:"lang"` // the invitation page's language: zh (default) or en
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	switch req.Lang {
	case "":
		req.Lang = "zh"
	case "zh", "en":
	default:
		return &httpError{http.StatusBadRequest, "invalid", "lang must be zh or en"}
	}
	by, _ := auth.FromContext(r.Context())
	inv, err := accounts.Invite(r.Context(), by, auth.InviteRequest{Email: req.Email, Name: req.Name, Role: req.Role})
	if err != nil {
		return err
	}
	if inv.Token == "" {
		return &httpError{http.StatusConflict, "conflict", "this person already has an account: they can sign in"}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	// The secret is in the fragment: browsers never send it to a server, so
	// it reaches no access log.
	url := scheme + "://" + r.Host + "/" + req.Lang + "/invite/#" + inv.Token
	return writeJSON(w, http.StatusCreated, map[string]any{"url": url, "user": inv.User, "expires_at": inv.Expires})
}

func (s *Server) acceptInvitation(w http.ResponseWriter, r *http.Request) error {
	accounts, err := s.accounts()
	if err != nil {
		return err
	}
	var req struct {
		Token    string `json:"token"`
		Password string `json:"password"`
		Name     string `json:"name"`
	}
	if err := readJSONStrict(r, &req); err != nil {
		return err
	}
	acc, sess, err := accounts.Accept(r.Context(), req.Token, req.Password, req.Name)
	if err != nil {
		return err
	}
	s.setSession(w, r, sess)
	return writeJSON(w, http.StatusOK, signedInView{User: newUserView(acc), CSRF: sess.CSRF})
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	accounts, err := s.accounts()
	if err != nil {
		return err
	}
	list, err := accounts.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]userView, 0, len(list))
	for _, a := range list {
		out = append(out, adminUserView(a))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) error {
	accounts, err := s.accounts()
	if err != nil {
		return err
	}
	var req struct {
		Role auth.Role `json:"role"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	acc, err := accounts.SetRole(r.Context(), r.PathValue("id"), req.Role)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, adminUserView(acc))
}

// deactivateUser stops a user from signing in: their sign-ins end, their
// tokens are refused from the next request on, and their lab sessions end.
// Their certificates stay valid.
func (s *Server) deactivateUser(w http.ResponseWriter, r *http.Request) error {
	accounts, err := s.accounts()
	if err != nil {
		return err
	}
	acc, err := accounts.Deactivate(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.endLabSessions(r.Context(), acc.ID); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, adminUserView(acc))
}

func (s *Server) activateUser(w http.ResponseWriter, r *http.Request) error {
	accounts, err := s.accounts()
	if err != nil {
		return err
	}
	acc, err := accounts.Activate(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, adminUserView(acc))
}

// deleteUser removes a user's personal data, ends their sign-ins and lab
// sessions, and keeps a tombstone: their certificates stay verifiable.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	accounts, err := s.accounts()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := accounts.Delete(r.Context(), id); err != nil {
		return err
	}
	if err := s.endLabSessions(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// endLabSessions ends every live lab session of user (their terminals end
// with them).
func (s *Server) endLabSessions(ctx context.Context, user string) error {
	owner := lab.Actor{User: user}
	live, err := s.Labs.Sessions(ctx, owner, true)
	if err != nil {
		return err
	}
	for _, sess := range live {
		// One that ended meanwhile is fine.
		err := s.Labs.Destroy(ctx, owner, sess.ID)
		if c := lab.ErrorCodeOf(err); err != nil && c != lab.ENotFound && c != lab.EConflict {
			return fmt.Errorf("end session %s of %s: %w", sess.ID, user, err)
		}
	}
	return nil
}

package certificate

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Service issues, verifies, revokes and renews certificates.
type Service struct {
	store  Store
	keys   *Keys
	issuer Issuer
	now    func() time.Time

	mu    sync.Mutex
	lists map[int]signedList // signed status lists, until a change or ListTTL
}

type signedList struct {
	jwt string
	at  time.Time
}

// NewService returns a Service issuing as issuer with the keys.
func NewService(store Store, keys *Keys, issuer Issuer) *Service {
	issuer.URL = strings.TrimRight(issuer.URL, "/")
	return &Service{store: store, keys: keys, issuer: issuer, now: time.Now, lists: map[int]signedList{}}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Issuer returns who the service issues as.
func (s *Service) Issuer() Issuer { return s.issuer }

// Keys returns the signing keys.
func (s *Service) Keys() *Keys { return s.keys }

var programID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func (s *Service) check(req *Request) error {
	p := req.Program
	switch {
	case !programID.MatchString(p.ID):
		return errorf(EInvalid, "program id %q: want lowercase letters, digits and dashes", p.ID)
	case p.Name.EN == "" || p.Name.ZH == "":
		return errorf(EInvalid, "program %s: a name in both zh and en is required", p.ID)
	case p.Description.EN == "" || p.Criteria.EN == "":
		return errorf(EInvalid, "program %s: description and criteria (at least in en) are required", p.ID)
	case p.Validity < 0:
		return errorf(EInvalid, "program %s: validity must not be negative", p.ID)
	case req.Subject.UserID == "":
		return errorf(EInvalid, "the subject's user id is required")
	case strings.TrimSpace(req.Subject.Name) == "":
		return errorf(EInvalid, "the holder's name is required")
	case utf8.RuneCountInString(req.Subject.Name) > 200 || !utf8.ValidString(req.Subject.Name):
		return errorf(EInvalid, "the holder's name must be valid text of at most 200 characters")
	case len(req.Results) > 50 || len(req.Evidence) > 50:
		return errorf(EInvalid, "at most 50 results and 50 evidence links")
	}
	for _, r := range req.Results {
		if r.Name.EN == "" && r.Name.ZH == "" {
			return errorf(EInvalid, "every result needs a name")
		}
		if !(r.Score >= 0 && r.Score <= 100 && r.PassMark >= 0 && r.PassMark <= 100) {
			return errorf(EInvalid, "result %q: score and pass mark are percentages (0–100)", r.Name.In("en"))
		}
	}
	for i, e := range req.Evidence {
		u, err := url.Parse(e.URL)
		if err != nil || !(u.Scheme == "https" || u.Scheme == "http") && !(u.Scheme == "" && strings.HasPrefix(e.URL, "/")) {
			return errorf(EInvalid, "evidence %q: want an http(s) URL or a path on the site", e.URL)
		}
		if u.Scheme == "" {
			req.Evidence[i].URL = s.issuer.URL + e.URL
		}
	}
	return nil
}

// issueAttempts bounds the search for a free status list index: with random
// picks, a list is left for the next one once it is nearly full.
const issueAttempts = 16

func randIndex() int {
	n, _ := rand.Int(rand.Reader, big.NewInt(ListSize))
	return int(n.Int64())
}

// Issue issues the certificate req asks for. It is idempotent: while a live
// certificate of the same program and user exists, that one is returned.
// A revocation holds: while the user's newest certificate of the program is
// revoked, Issue refuses (ERevoked) and only Reissue issues again. After an
// expiry a new certificate is issued.
func (s *Service) Issue(ctx context.Context, req Request) (*Certificate, error) {
	req.Results = append([]Result(nil), req.Results...)
	req.Evidence = append([]Evidence(nil), req.Evidence...)
	if err := s.check(&req); err != nil {
		return nil, err
	}
	now := s.now()
	c, err := s.store.LiveCertificate(ctx, req.Program.ID, req.Subject.UserID, now)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	c, err = s.issue(ctx, &req, now, func(c *Certificate) (*Certificate, error) {
		got, _, err := s.store.InsertCertificate(ctx, c, now)
		return got, err
	})
	if errors.Is(err, ErrRevoked) {
		return nil, s.revokedError(ctx, req.Program.ID, req.Subject.UserID)
	}
	return c, err
}

// revokedError says that user's newest certificate of program is revoked.
func (s *Service) revokedError(ctx context.Context, program, user string) error {
	last, err := s.store.LatestCertificate(ctx, program, user)
	if err != nil {
		return fmt.Errorf("newest certificate of %s: %w", program, err)
	}
	return errorf(ERevoked, "certificate %s (%s) was revoked on %s: %s; only an administrator can issue it again",
		Group(last.Code), last.ProgramName.EN, last.Revoked.UTC().Format(time.DateOnly), last.RevokeReason)
}

// Latest returns user's newest certificate of program in any state: the
// one that stands for the holder (a renewal is newer than what it renewed,
// a reissue newer than what was revoked). ErrNotFound when there is none.
func (s *Service) Latest(ctx context.Context, program, user string) (*Certificate, error) {
	return s.store.LatestCertificate(ctx, program, user)
}

// Reissue is an admin's deliberate decision to issue again what was
// revoked: a new certificate for the same holder, program, results and
// evidence, valid from now for the program's validity, that records the
// revoked one (ReissueOf) and reason. The revoked one stays revoked. Only
// the holder's newest certificate of the program, and only a revoked one,
// is reissued.
func (s *Service) Reissue(ctx context.Context, code, reason string) (*Certificate, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		return nil, errorf(EInvalid, "a reason (at most 500 characters) is required")
	}
	old, err := s.Certificate(ctx, code)
	if err != nil {
		return nil, err
	}
	if st := old.StatusAt(s.now()); st != Revoked {
		return nil, errorf(EConflict, "certificate %s is %s, not revoked: only revoked certificates are reissued (renew a valid or expired one)", Group(old.Code), st)
	}
	last, err := s.store.LatestCertificate(ctx, old.Program, old.UserID)
	if err != nil {
		return nil, err
	}
	if last.Code != old.Code {
		return nil, errorf(EConflict, "certificate %s is not its holder's newest of %s: %s is", Group(old.Code), old.Program, Group(last.Code))
	}
	cred, err := old.Credential()
	if err != nil {
		return nil, err
	}
	req := requestOf(old, cred)
	next, err := s.issue(ctx, &req, s.now(), func(c *Certificate) (*Certificate, error) {
		c.ReissueOf, c.ReissueReason = old.Code, reason
		if err := s.store.ReissueCertificate(ctx, c); err != nil {
			return nil, err
		}
		return c, nil
	})
	if errors.Is(err, ErrStale) {
		return nil, errorf(EConflict, "certificate %s changed while reissuing it; try again", Group(old.Code))
	}
	return next, err
}

// issue builds and signs a certificate for req and saves it with save,
// trying other status indexes while save answers ErrIndexTaken.
func (s *Service) issue(ctx context.Context, req *Request, now time.Time, save func(*Certificate) (*Certificate, error)) (*Certificate, error) {
	subject, err := s.store.SubjectID(ctx, req.Subject.UserID)
	if errors.Is(err, ErrNotFound) {
		subject = newUUID() // stored with the certificate
	} else if err != nil {
		return nil, err
	}
	key, err := s.keys.signer()
	if err != nil {
		return nil, err
	}
	issued := now.UTC().Truncate(time.Second)
	for attempt, retried := 0, false; attempt < 64*issueAttempts; attempt++ {
		c := &Certificate{
			ID: newUUID(), Code: NewCode(), Program: req.Program.ID, ProgramName: req.Program.Name,
			UserID: req.Subject.UserID, SubjectID: subject, HolderName: strings.TrimSpace(req.Subject.Name),
			Issued: issued, KeyID: key.ID, StatusList: 1 + attempt/issueAttempts, StatusIndex: randIndex(),
		}
		if req.Program.Validity > 0 {
			c.Expires = issued.Add(req.Program.Validity)
		}
		if c.JWT, err = signCredential(key, s.issuer.credential(c, req)); err != nil {
			return nil, err
		}
		got, err := save(c)
		if errors.Is(err, ErrIndexTaken) {
			continue
		}
		if errors.Is(err, ErrSubjectChanged) && !retried {
			if subject, err = s.store.SubjectID(ctx, req.Subject.UserID); err != nil {
				return nil, err
			}
			retried = true
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("issue %s for %s: %w", req.Program.ID, req.Subject.UserID, err)
		}
		return got, nil
	}
	return nil, errors.New("issue: no free status list index found")
}

// Certificate returns the certificate with code (as typed: any case, dashes).
func (s *Service) Certificate(ctx context.Context, code string) (*Certificate, error) {
	canon, err := ParseCode(code)
	if err != nil {
		return nil, errorf(ENotFound, "no certificate has the code %q", code)
	}
	c, err := s.store.Certificate(ctx, canon)
	if errors.Is(err, ErrNotFound) {
		return nil, errorf(ENotFound, "no certificate has the code %s", Group(canon))
	}
	return c, err
}

// Status returns the certificate's status now.
func (s *Service) Status(c *Certificate) Status { return c.StatusAt(s.now()) }

// ForUser returns a user's certificates, newest first.
func (s *Service) ForUser(ctx context.Context, user string) ([]*Certificate, error) {
	return s.store.UserCertificates(ctx, user)
}

// Revoke revokes a certificate for reason: its status list bit is set and
// the reason recorded. The record stays.
func (s *Service) Revoke(ctx context.Context, code, reason string) (*Certificate, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > 500 {
		return nil, errorf(EInvalid, "a reason (at most 500 characters) is required")
	}
	c, err := s.Certificate(ctx, code)
	if err != nil {
		return nil, err
	}
	err = s.store.RevokeCertificate(ctx, c.Code, s.now().UTC(), reason)
	if errors.Is(err, ErrRevoked) {
		return nil, errorf(EConflict, "certificate %s is already %s", Group(c.Code), s.Status(c))
	}
	if err != nil {
		return nil, err
	}
	s.forget(c.StatusList)
	return s.store.Certificate(ctx, c.Code)
}

// Renew issues a new certificate for the same holder, program, results and
// evidence, valid from now for the program's validity, which supersedes the
// old one (whose status bit is set). Revoked certificates are not renewed.
func (s *Service) Renew(ctx context.Context, code string) (*Certificate, error) {
	old, err := s.Certificate(ctx, code)
	if err != nil {
		return nil, err
	}
	switch old.StatusAt(s.now()) {
	case Revoked:
		return nil, errorf(EConflict, "certificate %s is revoked (%s); revoked certificates are not renewed (an administrator may reissue it)", Group(old.Code), old.RevokeReason)
	case Superseded:
		return nil, errorf(EConflict, "certificate %s was already renewed as %s", Group(old.Code), Group(old.SupersededBy))
	}
	// Only the certificate that stands is renewed: renewing an older one
	// would step around a newer one's revocation.
	if last, err := s.store.LatestCertificate(ctx, old.Program, old.UserID); err != nil {
		return nil, err
	} else if last.Code != old.Code {
		return nil, errorf(EConflict, "certificate %s is not its holder's newest of %s: %s (%s) is", Group(old.Code), old.Program, Group(last.Code), s.Status(last))
	}
	cred, err := old.Credential()
	if err != nil {
		return nil, err
	}
	req := requestOf(old, cred)
	now := s.now()
	next, err := s.issue(ctx, &req, now, func(c *Certificate) (*Certificate, error) {
		c.Supersedes = old.Code
		if err := s.store.SupersedeCertificate(ctx, old.Code, c, now.UTC()); err != nil {
			return nil, err
		}
		return c, nil
	})
	if errors.Is(err, ErrRevoked) {
		return nil, errorf(EConflict, "certificate %s changed while renewing it; try again", Group(old.Code))
	}
	if err != nil {
		return nil, err
	}
	s.forget(old.StatusList)
	return next, nil
}

// requestOf rebuilds the request a certificate was issued for.
func requestOf(c *Certificate, cred *Credential) Request {
	a := cred.CredentialSubject.Achievement
	zh := a.Translations.zh()
	req := Request{
		Program: Program{
			ID: c.Program, Name: Text{EN: a.Name, ZH: zh.Name},
			Description: Text{EN: a.Description, ZH: zh.Description},
			Criteria:    Text{EN: a.Criteria.Narrative, ZH: zh.Criteria},
		},
		Subject: Subject{UserID: c.UserID, Name: c.HolderName},
		Results: cred.Results(),
	}
	if !c.Expires.IsZero() {
		req.Program.Validity = c.Expires.Sub(c.Issued)
	}
	for _, e := range cred.Evidence {
		req.Evidence = append(req.Evidence, Evidence{Name: e.Text(), URL: e.ID})
	}
	return req
}

// Verify checks a certificate token against the service's keys (retired
// ones included) and its records: a revoked certificate comes with its
// reason, a superseded one with its successor's code.
func (s *Service) Verify(ctx context.Context, token string) (*Verification, error) {
	v := Verifier{Keys: s.keys, Issuer: s.issuer.URL, Now: s.now}
	ver, err := v.Verify(token)
	if err != nil {
		return nil, err
	}
	c, err := s.store.CertificateByID(ctx, ver.ID)
	if errors.Is(err, ErrNotFound) {
		return nil, invalid("signed by this issuer but not in its records")
	}
	if err != nil {
		return nil, err
	}
	ver.StatusChecked = true
	switch st := c.StatusAt(s.now()); st {
	case Revoked:
		ver.Status, ver.Reason = Revoked, c.RevokeReason
	case Superseded:
		ver.Status, ver.SupersededBy = Superseded, c.SupersededBy
	}
	return ver, nil
}

// StatusList returns revocation list n, signed. Lists are signed again after
// a change or when ListTTL has passed.
func (s *Service) StatusList(ctx context.Context, n int) (string, error) {
	if n < 1 || n > 1<<20 {
		return "", errorf(ENotFound, "no status list %d", n)
	}
	now := s.now()
	s.mu.Lock()
	l, ok := s.lists[n]
	s.mu.Unlock()
	if ok && now.Sub(l.at) < ListTTL/2 {
		return l.jwt, nil
	}
	if n > 1 { // list 1 exists from the start; later ones once a certificate points at them
		used, err := s.store.StatusListUsed(ctx, n)
		if err != nil {
			return "", err
		}
		if !used {
			return "", errorf(ENotFound, "no status list %d", n)
		}
	}
	set, err := s.store.RevokedIndexes(ctx, n)
	if err != nil {
		return "", err
	}
	key, err := s.keys.signer()
	if err != nil {
		return "", err
	}
	tok, err := s.issuer.signStatusList(key, n, set, now)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.lists[n] = signedList{jwt: tok, at: now}
	s.mu.Unlock()
	return tok, nil
}

func (s *Service) forget(list int) {
	s.mu.Lock()
	delete(s.lists, list)
	s.mu.Unlock()
}

// Package certificate issues and verifies XSKY Academy's certificates: Open
// Badges 3.0 credentials signed as compact JWS (vc+jwt, EdDSA), revocable
// through a signed Bitstring Status List, renewable, and printable as a
// bilingual PDF with a QR code to the public verify page. It holds no SQL or
// HTTP: a Store keeps the records, the API serves them.
package certificate

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Text is a string in both of the site's languages.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

// In returns the text in lang ("zh" or "en"), falling back to the other one.
func (t Text) In(lang string) string {
	if lang == "zh" && t.ZH != "" || t.EN == "" {
		return t.ZH
	}
	return t.EN
}

// Program is a certification program: what a certificate says was achieved.
type Program struct {
	ID          string        // e.g. "storage-ops"; part of the achievement's id
	Name        Text          // e.g. {存储运维工程师认证, Storage Operations Certification}
	Description Text          // what the holder can do
	Criteria    Text          // how it is earned (criteria.narrative)
	Validity    time.Duration // how long a certificate is valid; 0 for no expiry
}

// Subject is the person a certificate is issued to.
type Subject struct {
	UserID string // labd's user id; never put in the credential as such
	Name   string // the holder's name as printed, frozen at issue
}

// Result is one score behind a certificate (a lab or an exam), in percent.
type Result struct {
	Name     Text    `json:"name"`
	Score    float64 `json:"score"`     // 0–100
	PassMark float64 `json:"pass_mark"` // 0–100; the score needed to pass
}

// Evidence is a link to what the holder did (a lab record, an exam attempt).
type Evidence struct {
	Name Text   `json:"name"`
	URL  string `json:"url"`
}

// Request asks for a certificate.
type Request struct {
	Program  Program
	Subject  Subject
	Results  []Result
	Evidence []Evidence
}

// Status is what a verifier learns about a certificate.
type Status string

const (
	Valid      Status = "valid"
	Expired    Status = "expired"
	Revoked    Status = "revoked"
	Superseded Status = "superseded"
	NotFound   Status = "not_found"
)

// Certificate is an issued certificate's record. Records are never deleted:
// revoking and superseding only mark them.
type Certificate struct {
	ID          string    // the credential id, urn:uuid:…
	Code        string    // the verification code, canonical (no dashes)
	Program     string    // program id
	ProgramName Text      //
	UserID      string    // labd user id
	SubjectID   string    // the credential's subject id (urn:uuid per user)
	HolderName  string    //
	Issued      time.Time // validFrom
	Expires     time.Time // validUntil; zero for none
	KeyID       string    // the signing key's thumbprint
	StatusList  int       // number of the revocation status list
	StatusIndex int       // this certificate's bit in it
	JWT         string    // the signed credential

	Revoked      time.Time // zero unless revoked
	RevokeReason string
	Supersedes   string // code of the certificate this one renewed
	SupersededBy string // code of the certificate that renewed this one
	// ReissueOf is the code of the revoked certificate an admin issued this
	// one again for (Service.Reissue), and ReissueReason why.
	ReissueOf     string
	ReissueReason string
}

// StatusAt returns the certificate's status at now.
func (c *Certificate) StatusAt(now time.Time) Status {
	switch {
	case c.SupersededBy != "":
		return Superseded
	case !c.Revoked.IsZero():
		return Revoked
	case !c.Expires.IsZero() && !now.Before(c.Expires):
		return Expired
	}
	return Valid
}

// Credential decodes the signed credential the record holds. The record is
// labd's own, so its payload is read without checking the signature.
func (c *Certificate) Credential() (*Credential, error) {
	return decodePayload(c.JWT)
}

// Error codes the API maps to HTTP statuses.
const (
	ENotFound = "not_found"
	EConflict = "conflict"
	EInvalid  = "invalid"
	// ERevoked refuses to issue a certificate to a holder whose newest one
	// of the program is revoked: only an admin's Reissue issues again.
	ERevoked = "revoked"
)

// Error is a domain error whose message is fit to show the caller.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// ErrorCode lets the API map the error to a status without knowing this package.
func (e *Error) ErrorCode() string { return e.Code }

func errorf(code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrNotFound is the Store's answer for a missing certificate.
var ErrNotFound = errors.New("certificate not found")

// ErrIndexTaken is the Store's answer when a status list index is in use.
var ErrIndexTaken = errors.New("status list index taken")

// Store keeps certificate records.
type Store interface {
	// InsertCertificate stores c unless a live certificate (neither revoked
	// nor superseded, not expired at now) of the same program and user
	// exists: then it returns that one and false. When the user's newest
	// certificate of the program is revoked it fails with ErrRevoked: a
	// revocation holds against the holder. The checks and the insert are
	// atomic. A status index already used in c's list gives ErrIndexTaken.
	InsertCertificate(ctx context.Context, c *Certificate, now time.Time) (*Certificate, bool, error)
	// LiveCertificate returns the live certificate of program for user, or ErrNotFound.
	LiveCertificate(ctx context.Context, program, user string, now time.Time) (*Certificate, error)
	// LatestCertificate returns user's newest certificate of program, in
	// any state, or ErrNotFound.
	LatestCertificate(ctx context.Context, program, user string) (*Certificate, error)
	// ReissueCertificate stores next (next.ReissueOf names the old one) if
	// the old one is still revoked and its holder's newest of the program,
	// else fails with ErrStale; atomically.
	ReissueCertificate(ctx context.Context, next *Certificate) error
	// Certificate returns the certificate with the canonical code, or ErrNotFound.
	Certificate(ctx context.Context, code string) (*Certificate, error)
	// CertificateByID returns the certificate with the credential id, or ErrNotFound.
	CertificateByID(ctx context.Context, id string) (*Certificate, error)
	// UserCertificates returns user's certificates, newest first.
	UserCertificates(ctx context.Context, user string) ([]*Certificate, error)
	// RevokeCertificate marks code revoked at when with reason; it fails
	// with ErrNotFound, or ErrRevoked when it already is revoked or superseded.
	RevokeCertificate(ctx context.Context, code string, when time.Time, reason string) error
	// SupersedeCertificate stores next and marks old superseded by it (and
	// its status bit set, at when), atomically.
	SupersedeCertificate(ctx context.Context, old string, next *Certificate, when time.Time) error
	// RevokedIndexes returns the set bits of a status list: revoked and superseded certificates.
	RevokedIndexes(ctx context.Context, list int) ([]int, error)
	// StatusListUsed reports whether any certificate points at status list n.
	StatusListUsed(ctx context.Context, list int) (bool, error)
	// SubjectID returns the credential subject id of user, or ErrNotFound
	// before the user's first certificate: inserting that one stores its
	// subject id, or fails with ErrSubjectChanged if another was stored meanwhile.
	SubjectID(ctx context.Context, user string) (string, error)
}

// ErrSubjectChanged is the Store's answer when a new user's subject id was
// stored by a concurrent issue: the certificate is made again with it.
var ErrSubjectChanged = errors.New("subject id changed")

// ErrRevoked is the Store's answer when revoking what is no longer live,
// and when issuing to a holder whose newest certificate is revoked.
var ErrRevoked = errors.New("certificate already revoked or superseded")

// ErrStale is the Store's answer when a reissue's revoked certificate is no
// longer its holder's newest (or no longer revoked).
var ErrStale = errors.New("certificate is no longer the holder's newest revoked one")

// ErrorCodeOf returns the code of a domain error, "" for others.
func ErrorCodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

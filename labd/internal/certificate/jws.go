package certificate

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/golang-jwt/jwt/v5"
)

// TokenType is the JWS "typ" of certificates and status lists. labd's
// session tokens have another, so neither can pass for the other.
const TokenType = "vc+jwt"

// maxToken bounds what Verify reads: a certificate is a few KB.
const maxToken = 64 << 10

// ErrInvalid is wrapped by every reason a token is refused.
var ErrInvalid = errors.New("invalid certificate")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// claims is the JWT payload: the credential itself plus the registered
// claims mirroring it (no "vc" wrapper, as VC 2.0 and OB 3.0 want).
type claims struct {
	*Credential
	jwt.RegisteredClaims
}

// sign signs payload with key as a compact JWS with typ vc+jwt.
func sign(key *Key, payload jwt.Claims) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, payload)
	tok.Header["typ"] = TokenType
	tok.Header["kid"] = key.ID
	s, err := tok.SignedString(key.private)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return s, nil
}

func numericDate(rfc3339 string) *jwt.NumericDate {
	if rfc3339 == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		return nil
	}
	return jwt.NewNumericDate(t)
}

func signCredential(key *Key, c *Credential) (string, error) {
	return sign(key, claims{Credential: c, RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    c.Issuer.ID,
		Subject:   c.CredentialSubject.ID,
		ID:        c.ID,
		NotBefore: numericDate(c.ValidFrom),
		ExpiresAt: numericDate(c.ValidUntil),
	}})
}

// payload holds a token's payload as golang-jwt hands it over, undecoded:
// golang-jwt checks the algorithm, type, key and signature, and only then
// is the payload decoded, once, strictly (json/v2: duplicate names and
// invalid UTF-8 are errors, names match exactly).
type payload struct {
	raw []byte
	jwt.RegisteredClaims
}

func (p *payload) UnmarshalJSON(b []byte) error {
	p.raw = append(p.raw[:0], b...)
	return nil
}

// parse checks a compact JWS's algorithm (EdDSA only), type and key id
// against keys, and its signature, and decodes its payload into v.
func parse(token string, keys KeySet, v any) (kid string, raw []byte, err error) {
	if len(token) > maxToken {
		return "", nil, invalid("the token is larger than %d bytes", maxToken)
	}
	var p payload
	_, err = jwt.ParseWithClaims(token, &p, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != TokenType {
			return nil, fmt.Errorf("token type %q, want %q", t.Header["typ"], TokenType)
		}
		kid, _ = t.Header["kid"].(string)
		pub, ok := keys.PublicKey(kid)
		if !ok {
			return nil, fmt.Errorf("unknown signing key %q", kid)
		}
		return pub, nil
	}, jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}), jwt.WithoutClaimsValidation())
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := jsonv2.Unmarshal(p.raw, v, jsonv2.RejectUnknownMembers(false)); err != nil {
		return "", nil, invalid("payload: %v", err)
	}
	return kid, p.raw, nil
}

// Verifier checks certificates offline: with public keys and, optionally, a
// status list, and nothing else.
type Verifier struct {
	Keys KeySet
	// Issuer, when set, is the only issuer accepted.
	Issuer string
	// Status, when set, is the revocation list consulted for certificates
	// that point at it.
	Status *StatusList
	Now    func() time.Time
}

// Verification is what a verifier learned about a certificate whose
// signature holds.
type Verification struct {
	ID      string // the credential id
	Issuer  string // the issuer's id
	KeyID   string
	Issued  time.Time
	Expires time.Time // zero for none
	// Status is Valid, Expired or Revoked (the status list bit is set, which
	// a renewal also does); the Service adds Superseded from its records.
	Status Status
	// StatusChecked says whether a status list was consulted.
	StatusChecked bool
	// Reason and SupersededBy come from the issuer's records (Service.Verify).
	Reason       string
	SupersededBy string

	payload []byte
}

// Credential decodes the verified credential in full (holder, program,
// results, evidence). Verify itself reads only what it checks.
func (v *Verification) Credential() (*Credential, error) {
	var c Credential
	if err := json.Unmarshal(v.payload, &c); err != nil {
		return nil, fmt.Errorf("credential: %w", err)
	}
	return &c, nil
}

// Err says why a verified certificate is not valid, nil when it is.
func (v *Verification) Err() error {
	switch v.Status {
	case Valid:
		return nil
	case Expired:
		return fmt.Errorf("expired on %s", v.Expires.UTC().Format(time.DateOnly))
	case Superseded:
		return fmt.Errorf("superseded by %s", Group(v.SupersededBy))
	case Revoked:
		if v.Reason != "" {
			return fmt.Errorf("revoked: %s", v.Reason)
		}
		return errors.New("revoked")
	}
	return errors.New(string(v.Status))
}

// leeway allows for clocks a little ahead of the issuer's.
const leeway = time.Minute

// checked is what Verify decodes of a credential: what it checks, no more.
// The rest (texts, results, evidence) is skipped, not built.
type checked struct {
	Context []string `json:"@context"`
	ID      string   `json:"id"`
	Type    []string `json:"type"`
	Issuer  struct {
		ID string `json:"id"`
	} `json:"issuer"`
	ValidFrom         string `json:"validFrom"`
	ValidUntil        string `json:"validUntil"`
	CredentialSubject struct {
		ID          string   `json:"id"`
		Type        []string `json:"type"`
		Achievement struct {
			ID          string   `json:"id"`
			Type        []string `json:"type"`
			Name        string   `json:"name"`
			Description string   `json:"description"`
			Criteria    struct {
				Narrative string `json:"narrative"`
			} `json:"criteria"`
		} `json:"achievement"`
	} `json:"credentialSubject"`
	CredentialStatus *StatusEntry `json:"credentialStatus"`
	jwt.RegisteredClaims
}

// Verify checks a certificate: signature (EdDSA, typ vc+jwt, known kid), the
// Open Badges shape, that iss/sub/jti/nbf/exp mirror the credential, its
// validity period, and its status bit when Status is the list it points at.
// A forged or malformed token is an error wrapping ErrInvalid; an authentic
// one answers with its status.
func (v *Verifier) Verify(token string) (*Verification, error) {
	var c checked
	kid, raw, err := parse(token, v.Keys, &c)
	if err != nil {
		return nil, err
	}
	if err := checkShape(&c); err != nil {
		return nil, err
	}
	if v.Issuer != "" && c.Issuer.ID != v.Issuer {
		return nil, invalid("issued by %q, not by %q", c.Issuer.ID, v.Issuer)
	}
	from, err := time.Parse(time.RFC3339, c.ValidFrom)
	if err != nil {
		return nil, invalid("validFrom: %v", err)
	}
	var until time.Time
	if c.ValidUntil != "" {
		if until, err = time.Parse(time.RFC3339, c.ValidUntil); err != nil {
			return nil, invalid("validUntil: %v", err)
		}
	}
	switch {
	case c.RegisteredClaims.Issuer != c.Issuer.ID:
		return nil, invalid("iss %q is not issuer.id %q", c.RegisteredClaims.Issuer, c.Issuer.ID)
	case c.Subject != c.CredentialSubject.ID:
		return nil, invalid("sub %q is not credentialSubject.id %q", c.Subject, c.CredentialSubject.ID)
	case c.RegisteredClaims.ID != c.ID:
		return nil, invalid("jti %q is not the credential id %q", c.RegisteredClaims.ID, c.ID)
	case c.NotBefore == nil || !c.NotBefore.Equal(from):
		return nil, invalid("nbf does not match validFrom %s", c.ValidFrom)
	case until.IsZero() && c.ExpiresAt != nil:
		return nil, invalid("exp is set but validUntil is not")
	case !until.IsZero() && (c.ExpiresAt == nil || !c.ExpiresAt.Equal(until)):
		return nil, invalid("exp does not match validUntil %s", c.ValidUntil)
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if now.Add(leeway).Before(from) {
		return nil, invalid("not valid before %s", c.ValidFrom)
	}
	out := &Verification{ID: c.ID, Issuer: c.Issuer.ID, KeyID: kid, Issued: from, Expires: until, Status: Valid, payload: raw}
	if !until.IsZero() && !now.Before(until) {
		out.Status = Expired
	}
	if st := c.CredentialStatus; v.Status != nil && st != nil && st.StatusListCredential == v.Status.URL {
		i, err := strconv.Atoi(st.StatusListIndex)
		if err != nil {
			return nil, invalid("statusListIndex %q is not a number", st.StatusListIndex)
		}
		revoked, err := v.Status.Set(i)
		if err != nil {
			return nil, invalid("%v", err)
		}
		out.StatusChecked = true
		if revoked {
			out.Status = Revoked
		}
	}
	return out, nil
}

// checkShape checks what Open Badges 3.0 requires of a credential.
func checkShape(c *checked) error {
	switch {
	case len(c.Context) < 2 || c.Context[0] != ContextVC || c.Context[1] != ContextOB:
		return invalid("@context must begin with %s and %s", ContextVC, ContextOB)
	case !slices.Contains(c.Type, "VerifiableCredential") || !slices.Contains(c.Type, "OpenBadgeCredential"):
		return invalid("type must hold VerifiableCredential and OpenBadgeCredential")
	case c.ID == "":
		return invalid("the credential has no id")
	case c.Issuer.ID == "":
		return invalid("the credential has no issuer id")
	case c.CredentialSubject.ID == "":
		return invalid("the credential subject has no id")
	case !slices.Contains(c.CredentialSubject.Type, "AchievementSubject"):
		return invalid("credentialSubject.type must hold AchievementSubject")
	}
	a := c.CredentialSubject.Achievement
	switch {
	case a.ID == "" || a.Name == "" || a.Description == "" || a.Criteria.Narrative == "":
		return invalid("the achievement needs id, name, description and criteria")
	case !slices.Contains(a.Type, "Achievement"):
		return invalid("achievement.type must hold Achievement")
	}
	return nil
}

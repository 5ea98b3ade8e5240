// Package auth says who a caller is: accounts with argon2id passwords,
// browser sign-ins kept server-side (cookie + CSRF token), invitations,
// rate-limited login, and signed tokens (JWT, EdDSA) for scripts. Everything
// else only sees a User.
package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Role is what a user may do.
type Role string

const (
	Trainee  Role = "trainee"
	Lecturer Role = "lecturer"
	Admin    Role = "admin"
)

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Trainee, Lecturer, Admin:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want trainee, lecturer or admin)", s)
}

// User is an authenticated caller.
type User struct {
	ID   string
	Role Role
}

type ctxKey struct{}

// WithUser returns ctx carrying u.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// FromContext returns the caller in ctx, if any.
func FromContext(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(ctxKey{}).(User)
	return u, ok
}

// tokenType is the JWT "typ" header of session tokens; certificates use another,
// so one can never be passed off as the other.
const tokenType = "labd+jwt"

// Issuer is "labd", the iss claim of its tokens.
const Issuer = "labd"

// Claims are a session token's claims.
type Claims struct {
	Role Role `json:"role"`
	jwt.RegisteredClaims
}

// Tokens signs and verifies session tokens with one Ed25519 key.
type Tokens struct {
	key ed25519.PrivateKey
	kid string
	now func() time.Time
}

// ErrToken is returned for any token that does not verify. Its message is
// deliberately vague: the caller learns nothing about why.
var ErrToken = errors.New("invalid or expired token")

// LoadTokens reads the signing key from dir/session.key, creating it (0600)
// on first start.
func LoadTokens(dir string) (*Tokens, error) {
	path := filepath.Join(dir, "session.key")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		_, priv, gerr := ed25519.GenerateKey(rand.Reader)
		if gerr != nil {
			return nil, gerr
		}
		der, merr := x509.MarshalPKCS8PrivateKey(priv)
		if merr != nil {
			return nil, merr
		}
		data = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		// O_EXCL: two labd starting at once must not overwrite each other's key.
		f, ferr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if ferr != nil {
			if errors.Is(ferr, os.ErrExist) {
				return LoadTokens(dir)
			}
			return nil, ferr
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("read session key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: not a PEM key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 key", path)
	}
	return NewTokens(priv), nil
}

// NewTokens returns Tokens for key.
func NewTokens(key ed25519.PrivateKey) *Tokens {
	sum := sha256.Sum256(key.Public().(ed25519.PublicKey))
	return &Tokens{key: key, kid: base64.RawURLEncoding.EncodeToString(sum[:12]), now: time.Now}
}

// MaxTokenTTL bounds a token's lifetime: a token cannot be taken back
// before it expires (only its user deactivated), so none lives for long.
const MaxTokenTTL = 30 * 24 * time.Hour

// Issue returns a signed token for u, valid for ttl (more than zero, at
// most MaxTokenTTL).
func (t *Tokens) Issue(u User, ttl time.Duration) (string, error) {
	if u.ID == "" {
		return "", errors.New("token: empty user")
	}
	if ttl <= 0 || ttl > MaxTokenTTL {
		return "", fmt.Errorf("token: the lifetime must be more than 0 and at most %s (30 days), not %s", fmtHours(MaxTokenTTL), ttl)
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		return "", err
	}
	now := t.now()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, Claims{
		Role: u.Role,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   u.ID,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	})
	tok.Header["typ"] = tokenType
	tok.Header["kid"] = t.kid
	return tok.SignedString(t.key)
}

// Verify checks a token's signature, algorithm, type, key id, issuer and
// lifetime, and returns its user.
func (t *Tokens) Verify(token string) (User, error) {
	var c Claims
	parsed, err := jwt.ParseWithClaims(token, &c, func(tok *jwt.Token) (any, error) {
		if typ, _ := tok.Header["typ"].(string); typ != tokenType {
			return nil, ErrToken
		}
		if kid, _ := tok.Header["kid"].(string); kid != t.kid {
			return nil, ErrToken
		}
		return t.key.Public(), nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil || !parsed.Valid {
		return User{}, ErrToken
	}
	if c.Subject == "" {
		return User{}, ErrToken
	}
	if _, err := ParseRole(string(c.Role)); err != nil {
		return User{}, ErrToken
	}
	return User{ID: c.Subject, Role: c.Role}, nil
}

// fmtHours writes d as "720h": time.Duration's String says "720h0m0s".
func fmtHours(d time.Duration) string { return fmt.Sprintf("%dh", int(d.Hours())) }

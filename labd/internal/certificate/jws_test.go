package certificate_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xsky-academy/academy/labd/internal/certificate"
)

// payload decodes a token's payload into a map.
func payload(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func header(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encode(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// resign signs header and claims with key (a forger's or ours).
func resign(t *testing.T, hdr, claims map[string]any, key ed25519.PrivateKey) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims(claims))
	for k, v := range hdr {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTokenAttacks feeds Verify forged and damaged tokens: each is refused
// with ErrInvalid and a message that says why.
func TestTokenAttacks(t *testing.T) {
	e := newEnv(t)
	c := e.issue(t, "alice", "Alice")
	good := c.JWT
	parts := strings.Split(good, ".")
	hdr, claims := header(t, good), payload(t, good)
	pub, _ := e.keys.PublicKey(c.KeyID)
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)

	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range hdr {
			m[a] = b
		}
		m[k] = v
		return m
	}
	hs256 := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims))
		tok.Header["typ"], tok.Header["kid"] = "vc+jwt", c.KeyID
		s, err := tok.SignedString([]byte(pub))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}()
	tampered := func(mutate func(m map[string]any)) string {
		m := payload(t, good)
		mutate(m)
		return parts[0] + "." + encode(m) + "." + parts[2]
	}
	// Our own key signing a token whose claims do not mirror the credential:
	// only the issuer could make one, but Verify must not accept it either.
	ourKey := func(mutate func(m map[string]any)) string {
		m := payload(t, good)
		mutate(m)
		return resignWithStoredKey(t, e, hdr, m)
	}
	cases := []struct {
		name, token, want string
	}{
		{"alg none", encode(with("alg", "none")) + "." + parts[1] + ".", "signing method none is invalid"},
		{"HS256 with the public key", hs256, "signing method HS256 is invalid"},
		{"session token type", resign(t, with("typ", "labd+jwt"), claims, stranger), "token type"},
		{"plain JWT type", ourKey(func(map[string]any) {}) + "", ""}, // placeholder replaced below
		{"no type", resign(t, with("typ", nil), claims, stranger), "token type"},
		{"unknown kid", resign(t, with("kid", "not-a-key"), claims, stranger), "unknown signing key"},
		{"known kid, stranger's key", resign(t, hdr, claims, stranger), "signature is invalid"},
		{"tampered name", tampered(func(m map[string]any) { m["name"] = "Something else" }), "signature is invalid"},
		{"tampered expiry", tampered(func(m map[string]any) { m["exp"] = 4102444800 }), "signature is invalid"},
		{"truncated", good[:len(good)-10], "signature"},
		{"two parts", parts[0] + "." + parts[1], "token contains an invalid number of segments"},
		{"empty", "", "invalid number of segments"},
		{"garbage", "a.b.c", "could not base64 decode"},
		{"huge", strings.Repeat("a", 70<<10), "larger than"},
		{"iss not issuer", ourKey(func(m map[string]any) { m["iss"] = "https://evil.example" }), "iss"},
		{"sub not subject", ourKey(func(m map[string]any) { m["sub"] = "urn:uuid:other" }), "sub"},
		{"jti not id", ourKey(func(m map[string]any) { m["jti"] = "urn:uuid:other" }), "jti"},
		{"exp not validUntil", ourKey(func(m map[string]any) { m["exp"] = 4102444800 }), "exp does not match"},
		{"no nbf", ourKey(func(m map[string]any) { delete(m, "nbf") }), "nbf"},
		{"other issuer", ourKey(func(m map[string]any) {
			m["iss"] = "https://evil.example"
			m["issuer"].(map[string]any)["id"] = "https://evil.example"
		}), "issued by"},
		{"not an OpenBadgeCredential", ourKey(func(m map[string]any) { m["type"] = []string{"VerifiableCredential"} }), "OpenBadgeCredential"},
		{"wrong context", ourKey(func(m map[string]any) { m["@context"] = []string{"https://www.w3.org/2018/credentials/v1"} }), "@context"},
		{"no achievement name", ourKey(func(m map[string]any) {
			m["credentialSubject"].(map[string]any)["achievement"].(map[string]any)["name"] = ""
		}), "achievement"},
		{"not yet valid", ourKey(func(m map[string]any) {
			m["validFrom"] = "2030-01-01T00:00:00Z"
			m["nbf"] = 1893456000
		}), "not valid before"},
	}
	cases[3] = struct{ name, token, want string }{"plain JWT type", resignWithStoredKey(t, e, with("typ", "JWT"), claims), "token type"}
	// A duplicate member: JSON decoders disagree on which one wins, so none is accepted.
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	dup := append(raw[:len(raw)-1:len(raw)-1], []byte(`,"name":"Something else"}`)...)
	input := parts[0] + "." + base64.RawURLEncoding.EncodeToString(dup)
	cases = append(cases, struct{ name, token, want string }{"duplicate member", input + "." +
		base64.RawURLEncoding.EncodeToString(ed25519.Sign(storedKey(t, e), []byte(input))), "duplicate"})
	v := certificate.Verifier{Keys: e.keys, Issuer: siteURL, Now: e.clock.Now}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Verify(tc.token)
			if err == nil {
				t.Fatalf("accepted: %+v", got)
			}
			if !errors.Is(err, certificate.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want ErrInvalid mentioning %q", err, tc.want)
			}
			if _, err := e.svc.Verify(context.Background(), tc.token); err == nil {
				t.Fatal("the service accepted it")
			}
		})
	}
	if ver, err := v.Verify(good); err != nil || ver.Status != certificate.Valid {
		t.Fatalf("the good token: %v", err)
	}
}

// resignWithStoredKey signs with the issuer's own current key, read from
// the key folder as an operator could.
func resignWithStoredKey(t *testing.T, e *env, hdr, claims map[string]any) string {
	t.Helper()
	return resign(t, hdr, claims, storedKey(t, e))
}

func TestExpiredIsAStatusNotAForgery(t *testing.T) {
	e := newEnv(t)
	c := e.issue(t, "alice", "Alice")
	e.clock.Add(3 * 365 * 24 * time.Hour)
	v := certificate.Verifier{Keys: e.keys, Now: e.clock.Now}
	ver, err := v.Verify(c.JWT)
	if err != nil {
		t.Fatalf("an expired certificate is still authentic: %v", err)
	}
	if ver.Status != certificate.Expired || ver.Err() == nil || !strings.Contains(ver.Err().Error(), "expired on 2028-11-26") {
		t.Fatalf("status %s, err %v", ver.Status, ver.Err())
	}
}

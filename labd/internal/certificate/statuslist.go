package certificate

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ListSize is the number of entries in a status list: the Bitstring Status
// List minimum (16 KB of bits), which hides any one certificate in the crowd.
const ListSize = 131072

// ListTTL is how long a status list may be cached (its ttl and Cache-Control).
const ListTTL = 5 * time.Minute

// StatusListCredential is a W3C Bitstring Status List credential.
type StatusListCredential struct {
	Context           []string          `json:"@context"`
	ID                string            `json:"id"`
	Type              []string          `json:"type"`
	Issuer            string            `json:"issuer"`
	ValidFrom         string            `json:"validFrom"`
	CredentialSubject StatusListSubject `json:"credentialSubject"`
}

// StatusListSubject holds the bits.
type StatusListSubject struct {
	ID            string `json:"id"`
	Type          string `json:"type"`
	StatusPurpose string `json:"statusPurpose"`
	EncodedList   string `json:"encodedList"`
	TTL           int64  `json:"ttl,omitempty"` // milliseconds
}

type listClaims struct {
	*StatusListCredential
	jwt.RegisteredClaims
}

// EncodeList encodes a bitstring of ListSize entries with the given bits
// set: GZIP, then multibase base64url ("u", no padding). Bit 0 is the
// left-most bit of the first byte.
func EncodeList(set []int) (string, error) {
	bits := make([]byte, ListSize/8)
	for _, i := range set {
		if i < 0 || i >= ListSize {
			return "", fmt.Errorf("status index %d outside 0..%d", i, ListSize-1)
		}
		bits[i/8] |= 0x80 >> (i % 8)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(bits)
	if err := zw.Close(); err != nil {
		return "", err
	}
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// maxList bounds a decoded list, so a crafted one cannot exhaust memory.
const maxList = 16 << 20

// DecodeList decodes an encodedList into its bytes.
func DecodeList(s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(s, "u")
	if !ok {
		return nil, errors.New("status list: encodedList must be multibase base64url (prefix u)")
	}
	z, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("status list: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, fmt.Errorf("status list: %w", err)
	}
	bits, err := io.ReadAll(io.LimitReader(zr, maxList+1))
	if err != nil {
		return nil, fmt.Errorf("status list: %w", err)
	}
	if len(bits) > maxList {
		return nil, errors.New("status list: larger than 16 MiB")
	}
	if len(bits)*8 < ListSize {
		return nil, fmt.Errorf("status list: %d entries, fewer than the minimum %d", len(bits)*8, ListSize)
	}
	return bits, nil
}

// StatusList is a verified, decoded revocation list.
type StatusList struct {
	URL     string // the list credential's id, which certificates point at
	Issued  time.Time
	Purpose string
	bits    []byte
}

// Set reports whether bit i is set.
func (l *StatusList) Set(i int) (bool, error) {
	if i < 0 || i >= len(l.bits)*8 {
		return false, fmt.Errorf("status index %d outside the list", i)
	}
	return l.bits[i/8]&(0x80>>(i%8)) != 0, nil
}

// ParseStatusList verifies a status list credential (vc+jwt, EdDSA, a key
// of keys) and decodes it. issuer, when set, must be its issuer.
func ParseStatusList(token string, keys KeySet, issuer string) (*StatusList, error) {
	c := listClaims{StatusListCredential: new(StatusListCredential)}
	if _, _, err := parse(token, keys, &c); err != nil {
		return nil, fmt.Errorf("status list: %w", err)
	}
	cred := c.StatusListCredential
	switch {
	case !slices.Contains(cred.Type, "BitstringStatusListCredential"):
		return nil, errors.New("status list: not a BitstringStatusListCredential")
	case cred.CredentialSubject.Type != "BitstringStatusList":
		return nil, errors.New("status list: credentialSubject is not a BitstringStatusList")
	case cred.CredentialSubject.StatusPurpose != "revocation":
		return nil, fmt.Errorf("status list: purpose %q, want revocation", cred.CredentialSubject.StatusPurpose)
	case issuer != "" && cred.Issuer != issuer:
		return nil, fmt.Errorf("status list: issued by %q, not by %q", cred.Issuer, issuer)
	case c.RegisteredClaims.Issuer != cred.Issuer || c.RegisteredClaims.ID != cred.ID:
		return nil, errors.New("status list: iss and jti do not mirror issuer and id")
	}
	bits, err := DecodeList(cred.CredentialSubject.EncodedList)
	if err != nil {
		return nil, err
	}
	issued, _ := time.Parse(time.RFC3339, cred.ValidFrom)
	return &StatusList{URL: cred.ID, Issued: issued, Purpose: cred.CredentialSubject.StatusPurpose, bits: bits}, nil
}

// statusList builds and signs list n with the given bits set.
func (is Issuer) signStatusList(key *Key, n int, set []int, now time.Time) (string, error) {
	enc, err := EncodeList(set)
	if err != nil {
		return "", err
	}
	url := is.StatusListURL(n)
	cred := &StatusListCredential{
		Context:   []string{ContextVC},
		ID:        url,
		Type:      []string{"VerifiableCredential", "BitstringStatusListCredential"},
		Issuer:    is.URL,
		ValidFrom: now.UTC().Format(time.RFC3339),
		CredentialSubject: StatusListSubject{
			ID: url + "#list", Type: "BitstringStatusList", StatusPurpose: "revocation",
			EncodedList: enc, TTL: ListTTL.Milliseconds(),
		},
	}
	return sign(key, listClaims{StatusListCredential: cred, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: is.URL, Subject: cred.CredentialSubject.ID, ID: url,
		NotBefore: jwt.NewNumericDate(now.UTC().Truncate(time.Second)),
	}})
}

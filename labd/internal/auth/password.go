package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters. Every hash records its own, so
// they can be raised later: old hashes keep verifying with theirs, and a
// sign-in with outdated parameters rehashes the password.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams suit a small server (2 cores, shared): 19 MiB and 2 passes
// is OWASP's first argon2id recommendation, about 30-60 ms of one core per
// hash here (BenchmarkLogin). One thread, because with two cores a second
// lane would only steal the other requests' core; parallel sign-ins are
// bounded by the Accounts' hashing slots instead, so memory stays at
// slots x 19 MiB however many requests arrive.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// MinPasswordLen is the shortest password accepted (in characters). Length
// is the rule; composition rules make passwords worse, not stronger.
const MinPasswordLen = 10

// maxPasswordLen bounds the bytes hashed, so a request cannot make a
// megabyte the hash's input.
const maxPasswordLen = 1024

// CheckPasswordRules says what is wrong with a new password, if anything.
func CheckPasswordRules(password string) error {
	switch n := utf8.RuneCountInString(password); {
	case n < MinPasswordLen:
		return Errorf(EInvalid, "the password is too short: use at least %d characters", MinPasswordLen)
	case len(password) > maxPasswordLen:
		return Errorf(EInvalid, "the password is too long: at most %d bytes", maxPasswordLen)
	}
	return nil
}

// HashPassword returns password's argon2id hash in the PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
func HashPassword(password string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// errHash is returned for a stored hash that cannot be decoded.
var errHash = errors.New("not an argon2id PHC hash")

// Limits on decoded parameters: a corrupt or hostile hash must not make
// one verification take gigabytes or minutes.
const (
	maxMemory  = 1 << 20 // 1 GiB in KiB
	maxTime    = 64
	maxKeySalt = 1024
)

// DecodeHash parses a PHC argon2id hash into its parameters, salt and key.
func DecodeHash(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, errHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || parts[2] != fmt.Sprintf("v=%d", v) || v != argon2.Version {
		return Params{}, nil, nil, fmt.Errorf("%w: version %q", errHash, parts[2])
	}
	var p Params
	var m, t, th uint64
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &th); err != nil ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", m, t, th) {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters %q", errHash, parts[3])
	}
	if m < 8 || m > maxMemory || t < 1 || t > maxTime || th < 1 || th > 255 || m < 8*th {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters out of range %q", errHash, parts[3])
	}
	p.Memory, p.Time, p.Threads = uint32(m), uint32(t), uint8(th)
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > maxKeySalt {
		return Params{}, nil, nil, fmt.Errorf("%w: salt", errHash)
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > maxKeySalt {
		return Params{}, nil, nil, fmt.Errorf("%w: hash", errHash)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// VerifyPassword reports whether password matches the encoded hash, in
// constant time; an undecodable hash is an error, never a match.
func VerifyPassword(encoded, password string) (bool, error) {
	p, salt, key, err := DecodeHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

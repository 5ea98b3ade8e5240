package certificate

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
)

// A verification code is 80 random bits in base32 (RFC 4648, no padding):
// 16 characters, shown as four groups of four.
const codeLen = 16

// NewCode returns a new random verification code, canonical (no dashes).
func NewCode() string {
	var b [10]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return base32.StdEncoding.EncodeToString(b[:])
}

// Group shows a canonical code as XXXX-XXXX-XXXX-XXXX.
func Group(code string) string {
	if len(code) != codeLen {
		return code
	}
	return code[0:4] + "-" + code[4:8] + "-" + code[8:12] + "-" + code[12:16]
}

// ParseCode accepts a code as a person may type it (any case, with dashes or
// spaces; 0, 1 and 8 for the letters O, I and B base32 lacks) and returns it
// canonical.
func ParseCode(s string) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == '0':
			r = 'O'
		case r == '1':
			r = 'I'
		case r == '8':
			r = 'B'
		}
		if !(r >= 'A' && r <= 'Z' || r >= '2' && r <= '7') {
			return "", errorf(EInvalid, "a verification code has only letters and the digits 2–7")
		}
		if b.Len() >= codeLen {
			return "", errorf(EInvalid, "a verification code has %d characters", codeLen)
		}
		b.WriteRune(r)
	}
	if b.Len() != codeLen {
		return "", errorf(EInvalid, "a verification code has %d characters, such as ABCD-EFGH-IJKL-MNOP", codeLen)
	}
	return b.String(), nil
}

// newUUID returns a random (version 4) UUID as a urn:uuid URI.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

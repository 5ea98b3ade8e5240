package certificate_test

import (
	"strings"
	"testing"

	"github.com/xsky-academy/academy/labd/internal/certificate"
)

// FuzzVerify feeds Verify arbitrary tokens, seeded with a genuine one and
// damaged copies. It must never panic, and anything it accepts must be the
// genuine certificate.
func FuzzVerify(f *testing.F) {
	e := newEnv(f)
	c := e.issue(f, "alice", "张伟")
	list, err := e.svc.StatusList(f.Context(), 1)
	if err != nil {
		f.Fatal(err)
	}
	parsed, err := certificate.ParseStatusList(list, e.keys, siteURL)
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(c.JWT, ".")
	for _, seed := range []string{c.JWT, list, "", ".", "..", "a.b.c", parts[0] + "." + parts[1] + ".",
		parts[0] + ".e30." + parts[2], strings.ToUpper(c.JWT), c.JWT + "=", `eyJhbGciOiJub25lIn0.e30.`} {
		f.Add(seed)
	}
	v := certificate.Verifier{Keys: e.keys, Status: parsed, Now: e.clock.Now}
	f.Fuzz(func(t *testing.T, token string) {
		ver, err := v.Verify(token)
		if err != nil {
			return
		}
		cred, err := ver.Credential()
		if ver.ID != c.ID || err != nil || cred.Holder() != "张伟" {
			t.Fatalf("accepted a token that is not the genuine certificate: %q", token)
		}
	})
}

// FuzzParseCode: whatever is typed, a code that parses is canonical and
// parses to itself.
func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"ABCD-EFGH-IJKL-MNOP", "abcd efgh ijkl mnop", "0000-1111-8888-2222", "", "-", "ÄBCD-EFGH-IJKL-MNOP"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := certificate.ParseCode(s)
		if err != nil {
			return
		}
		if len(c) != 16 || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Fatalf("ParseCode(%q) = %q", s, c)
		}
		if again, err := certificate.ParseCode(certificate.Group(c)); err != nil || again != c {
			t.Fatalf("round trip of %q: %q %v", c, again, err)
		}
	})
}

// FuzzDecodeList: a status list decoder never panics nor returns a list
// shorter than the minimum.
func FuzzDecodeList(f *testing.F) {
	enc, _ := certificate.EncodeList([]int{1, 2, 3})
	f.Add(enc)
	f.Add("u")
	f.Add("uH4sIAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		bits, err := certificate.DecodeList(s)
		if err == nil && len(bits)*8 < certificate.ListSize {
			t.Fatalf("accepted a list of %d entries", len(bits)*8)
		}
	})
}

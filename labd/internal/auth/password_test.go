package auth

import (
	"errors"
	"strings"
	"testing"
)

// fastParams keep unit tests quick; BenchmarkLogin measures the real ones.
var fastParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashPassword(t *testing.T) {
	h, err := HashPassword("correct horse battery", DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q does not record its parameters", h)
	}
	p, salt, key, err := DecodeHash(h)
	if err != nil || p != DefaultParams || len(salt) != 16 || len(key) != 32 {
		t.Fatalf("decode: %+v %d %d %v", p, len(salt), len(key), err)
	}
	if ok, err := VerifyPassword(h, "correct horse battery"); !ok || err != nil {
		t.Errorf("right password: %v %v", ok, err)
	}
	if ok, _ := VerifyPassword(h, "correct horse batterY"); ok {
		t.Error("wrong password accepted")
	}
	h2, _ := HashPassword("correct horse battery", DefaultParams)
	if h2 == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	// Hashes made with other parameters keep verifying with their own.
	old, _ := HashPassword("pw", fastParams)
	if ok, err := VerifyPassword(old, "pw"); !ok || err != nil {
		t.Errorf("hash with other parameters: %v %v", ok, err)
	}
}

func TestDecodeHashRejects(t *testing.T) {
	good, _ := HashPassword("x", fastParams)
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	for name, h := range map[string]string{
		"empty":          "",
		"bcrypt":         "$2a$10$abcdefghijklmnopqrstuu5Q0Z1p1F6bF8Q2Q8Q8Q8Q8Q8Q8Q8Q8",
		"argon2i":        with(1, "argon2i"),
		"old version":    with(2, "v=16"),
		"version junk":   with(2, "v=19x"),
		"huge memory":    with(3, "m=4194304,t=1,p=1"),
		"zero time":      with(3, "m=64,t=0,p=1"),
		"many passes":    with(3, "m=64,t=1000,p=1"),
		"zero threads":   with(3, "m=64,t=1,p=0"),
		"params order":   with(3, "t=1,m=64,p=1"),
		"params trailer": with(3, "m=64,t=1,p=1,k=2"),
		"short salt":     with(4, "AAAA"),
		"padded salt":    with(4, parts[4]+"=="),
		"bad base64":     with(5, "!!!!"),
		"short key":      with(5, "AAAAAAAA"),
		"extra field":    good + "$x",
	} {
		if _, _, _, err := DecodeHash(h); err == nil {
			t.Errorf("%s: %q decoded", name, h)
		}
		if ok, err := VerifyPassword(h, "x"); ok || err == nil {
			t.Errorf("%s: verify = %v, %v", name, ok, err)
		}
	}
}

func TestPasswordRules(t *testing.T) {
	for pw, ok := range map[string]bool{
		"short":                        false,
		"123456789":                    false,
		"1234567890":                   true,
		"密码密码密码密码密码":                   true, // ten characters, 30 bytes
		"密码密码密码密码密":                    false,
		strings.Repeat("x", 1024):      true,
		strings.Repeat("x", 1025):      false,
		"correct horse battery staple": true,
	} {
		err := CheckPasswordRules(pw)
		if (err == nil) != ok {
			t.Errorf("%q: %v", pw, err)
		}
		var e *Error
		if err != nil && (!errors.As(err, &e) || e.Code != EInvalid) {
			t.Errorf("%q: error %v is not EInvalid", pw, err)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"  Alice@Example.COM ": "alice@example.com",
		"bob.smith@xsky.com":   "bob.smith@xsky.com",
		"":                     "",
		"alice":                "",
		"Alice <a@b.com>":      "",
		"a@b":                  "",
		"a@b.com, c@d.com":     "",
		"a@@b.com":             "",
	} {
		got, err := NormalizeEmail(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func FuzzDecodeHash(f *testing.F) {
	good, _ := HashPassword("x", fastParams)
	f.Add(good)
	f.Add("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=1,t=1,p=1$$")
	f.Fuzz(func(t *testing.T, h string) {
		p, salt, key, err := DecodeHash(h)
		if err != nil {
			return
		}
		if p.Memory > maxMemory || p.Time > maxTime || p.Threads == 0 || len(salt) < 8 || len(key) < 16 {
			t.Fatalf("accepted out-of-range hash %q: %+v", h, p)
		}
	})
}

func FuzzNormalizeEmail(f *testing.F) {
	f.Add("Alice@Example.com")
	f.Add("\"a b\"@c.d")
	f.Fuzz(func(t *testing.T, s string) {
		e, err := NormalizeEmail(s)
		if err != nil {
			return
		}
		if e != strings.ToLower(e) || strings.TrimSpace(e) != e || !strings.Contains(e, "@") {
			t.Fatalf("%q normalised to %q", s, e)
		}
		if again, err := NormalizeEmail(e); err != nil || again != e {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, e, again, err)
		}
	})
}

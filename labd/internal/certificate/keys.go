package certificate

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Key is one Ed25519 signing key. Its id is its RFC 7638 JWK thumbprint.
type Key struct {
	ID      string
	Public  ed25519.PublicKey
	Created time.Time
	Signing bool // the key new certificates are signed with; the others are retired

	private ed25519.PrivateKey
}

// Keys are the certificate signing keys in a folder (under the data dir):
// one <kid>.pem per key (PKCS #8, 0600) and a file "signing" naming the
// current one. Retired keys stay, so what they signed keeps verifying. The
// folder is re-read when it changes, so `labd keys rotate` takes effect in a
// running labd.
type Keys struct {
	dir string

	mu      sync.Mutex
	stamp   time.Time
	keys    map[string]*Key
	signing *Key
}

// OpenKeys opens the key folder, creating it and a first key when needed.
func OpenKeys(dir string) (*Keys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	k := &Keys{dir: dir}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.load(); err != nil {
		return nil, err
	}
	if k.signing == nil {
		if _, err := k.rotate(); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// Thumbprint returns the RFC 7638 JWK SHA-256 thumbprint of an Ed25519 key.
func Thumbprint(pub ed25519.PublicKey) string {
	// The required members in lexicographic order, no whitespace.
	canon := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(canon))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// refresh re-reads the folder when it changed. k.mu is held.
func (k *Keys) refresh() error {
	st, err := os.Stat(k.dir)
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if st.ModTime().Equal(k.stamp) && k.keys != nil {
		return nil
	}
	return k.load()
}

func (k *Keys) load() error {
	st, err := os.Stat(k.dir)
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	files, err := filepath.Glob(filepath.Join(k.dir, "*.pem"))
	if err != nil {
		return err
	}
	keys := map[string]*Key{}
	for _, f := range files {
		key, err := readKey(f)
		if err != nil {
			return err
		}
		keys[key.ID] = key
	}
	var signing *Key
	if b, err := os.ReadFile(filepath.Join(k.dir, "signing")); err == nil {
		kid := strings.TrimSpace(string(b))
		if signing = keys[kid]; signing == nil {
			return fmt.Errorf("keys: %s names key %s, which is missing", filepath.Join(k.dir, "signing"), kid)
		}
		signing.Signing = true
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("keys: %w", err)
	}
	k.keys, k.signing, k.stamp = keys, signing, st.ModTime()
	return nil
}

func readKey(path string) (*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("keys: %s: not a PEM key", path)
	}
	pk, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("keys: %s: %w", path, err)
	}
	priv, ok := pk.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("keys: %s: not an Ed25519 key", path)
	}
	pub := priv.Public().(ed25519.PublicKey)
	created, _ := time.Parse(time.RFC3339, block.Headers["Created"])
	return &Key{ID: Thumbprint(pub), Public: pub, Created: created, private: priv}, nil
}

// Rotate makes a new signing key; the previous one is kept as retired and
// goes on verifying what it signed.
func (k *Keys) Rotate() (Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.refresh(); err != nil {
		return Key{}, err
	}
	key, err := k.rotate()
	if err != nil {
		return Key{}, err
	}
	return *key, nil
}

func (k *Keys) rotate() (*Key, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	kid := Thumbprint(pub)
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Created": now.Format(time.RFC3339)}, Bytes: der})
	keyFile := filepath.Join(k.dir, kid+".pem")
	if err := writeFile(keyFile, data); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(k.dir, "signing"), []byte(kid+"\n")); err != nil {
		os.Remove(keyFile) // a key that never signed is not published
		return nil, err
	}
	if err := k.load(); err != nil {
		return nil, err
	}
	return k.keys[kid], nil
}

// writeFile writes a 0600 file whole or not at all (a temporary file renamed).
func writeFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("keys: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("keys: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	return nil
}

// List returns every key, the signing one first, then newest first.
func (k *Keys) List() ([]Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.refresh(); err != nil {
		return nil, err
	}
	var out []Key
	for _, key := range k.keys {
		c := *key
		c.private = nil
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Key) int {
		switch {
		case a.Signing != b.Signing:
			if a.Signing {
				return -1
			}
			return 1
		case !a.Created.Equal(b.Created):
			return b.Created.Compare(a.Created)
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// signer returns the current signing key.
func (k *Keys) signer() (*Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.refresh(); err != nil {
		return nil, err
	}
	if k.signing == nil {
		return nil, errors.New("keys: no signing key (run labd keys rotate)")
	}
	return k.signing, nil
}

// PublicKey returns the public key with id kid, signing or retired. Keys
// are only ever added, so the folder is read again only for an unknown kid
// (a removed key file goes on verifying until labd restarts).
func (k *Keys) PublicKey(kid string) (ed25519.PublicKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if key, ok := k.keys[kid]; ok {
		return key.Public, true
	}
	if err := k.refresh(); err != nil {
		return nil, false
	}
	key, ok := k.keys[kid]
	if !ok {
		return nil, false
	}
	return key.Public, true
}

// KeySet finds public keys by id; Keys and a parsed JWKS are KeySets.
type KeySet interface {
	PublicKey(kid string) (ed25519.PublicKey, bool)
}

// JWK is a public Ed25519 key as a JSON Web Key.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKS is a JSON Web Key Set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWKS returns every public key, retired ones included.
func (k *Keys) JWKS() (JWKS, error) {
	keys, err := k.List()
	if err != nil {
		return JWKS{}, err
	}
	out := JWKS{Keys: []JWK{}}
	for _, key := range keys {
		out.Keys = append(out.Keys, JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(key.Public),
			Kid: key.ID, Alg: "EdDSA", Use: "sig"})
	}
	return out, nil
}

// PublicKeys is a fixed KeySet, such as a JWKS read from a file.
type PublicKeys map[string]ed25519.PublicKey

// PublicKey returns the key with id kid.
func (p PublicKeys) PublicKey(kid string) (ed25519.PublicKey, bool) {
	k, ok := p[kid]
	return k, ok
}

// ParseJWKS reads a JWKS's Ed25519 keys. A key whose kid is not its
// thumbprint is refused, so a JWKS cannot map a kid to another key.
func ParseJWKS(data []byte) (PublicKeys, error) {
	var set JWKS
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	out := PublicKeys{}
	for i, j := range set.Keys {
		if j.Kty != "OKP" || j.Crv != "Ed25519" {
			continue
		}
		x, err := base64.RawURLEncoding.DecodeString(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("jwks: key %d: x is not an Ed25519 public key", i)
		}
		pub := ed25519.PublicKey(x)
		if j.Kid != Thumbprint(pub) {
			return nil, fmt.Errorf("jwks: key %d: kid %q is not the key's thumbprint", i, j.Kid)
		}
		out[j.Kid] = pub
	}
	if len(out) == 0 {
		return nil, errors.New("jwks: no Ed25519 keys")
	}
	return out, nil
}

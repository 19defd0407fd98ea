package oidcfed

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Key uses: the federation key signs the entity configuration; the RP's signing key signs the
// request objects and client assertions; the encryption key decrypts the userinfo JWE.
const (
	UseFederation = "federation"
	UseSigning    = "sig"
	UseEncryption = "enc"
)

// Key states, with the broker's signing keys' meaning: the active key signs (or is the one
// published first for encryption), the next key is published before it is used so every peer
// has it when it becomes active, a retired key stays published (and decrypts) until pruned.
const (
	KeyActive  = "active"
	KeyNext    = "next"
	KeyRetired = "retired"
)

// ErrNoKeys: the key set is missing and may not be generated here (outside dev mode).
var ErrNoKeys = errors.New("oidcfed: no federation key set")

// KeyRecord is one key of the set.
type KeyRecord struct {
	ID      string    `json:"kid"`
	Use     string    `json:"use"`
	State   string    `json:"state"`
	Created time.Time `json:"created"`
	// Retired is when the key stopped being active (zero while active or next).
	Retired time.Time `json:"retired,omitzero"`
	PKCS8   []byte    `json:"pkcs8"`

	key crypto.Signer
}

// KeySet is the federation and RP keys: for each use one active key, one next key, and the
// retired ones still published.
type KeySet struct {
	Keys []KeyRecord `json:"keys"`
}

// KeySource loads the key set. FileKeySource is this package's; the adapter point for keeping
// these keys with the broker's own keys is another KeySource.
type KeySource interface {
	Load(ctx context.Context) (*KeySet, error)
}

// keyUses are the uses every complete set has.
var keyUses = []string{UseFederation, UseSigning, UseEncryption}

// thumbprint is the RFC 7638 SHA-256 JWK thumbprint, the key's kid.
func thumbprint(pub crypto.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

func newRecord(use, state string, bits int, now time.Time, random io.Reader) (KeyRecord, error) {
	k, err := rsa.GenerateKey(random, bits)
	if err != nil {
		return KeyRecord{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return KeyRecord{}, err
	}
	kid, err := thumbprint(k.Public())
	if err != nil {
		return KeyRecord{}, err
	}
	return KeyRecord{ID: kid, Use: use, State: state, Created: now.UTC(), PKCS8: der, key: k}, nil
}

// EnsureComplete adds what is missing (an active and a next key of each use) and reports
// whether it added anything.
func (ks *KeySet) EnsureComplete(bits int, now time.Time, random io.Reader) (bool, error) {
	changed := false
	for _, use := range keyUses {
		for _, state := range []string{KeyActive, KeyNext} {
			if ks.find(use, state) >= 0 {
				continue
			}
			rec, err := newRecord(use, state, bits, now, random)
			if err != nil {
				return false, err
			}
			ks.Keys = append(ks.Keys, rec)
			changed = true
		}
	}
	return changed, nil
}

func (ks *KeySet) find(use, state string) int {
	for i, k := range ks.Keys {
		if k.Use == use && k.State == state {
			return i
		}
	}
	return -1
}

// Rotate makes the next key of use active, retires the active one and adds a new next key:
// peers already had the new active key, published as next.
func (ks *KeySet) Rotate(use string, bits int, now time.Time, random io.Reader) error {
	next := ks.find(use, KeyNext)
	if next < 0 {
		return fmt.Errorf("oidcfed: no next %s key to rotate to", use)
	}
	if cur := ks.find(use, KeyActive); cur >= 0 {
		ks.Keys[cur].State, ks.Keys[cur].Retired = KeyRetired, now.UTC()
	}
	ks.Keys[next].State = KeyActive
	rec, err := newRecord(use, KeyNext, bits, now, random)
	if err != nil {
		return err
	}
	ks.Keys = append(ks.Keys, rec)
	return nil
}

// Prune drops retired keys retired longer than grace ago.
func (ks *KeySet) Prune(now time.Time, grace time.Duration) {
	kept := ks.Keys[:0]
	for _, k := range ks.Keys {
		if k.State == KeyRetired && now.Sub(k.Retired) > grace {
			continue
		}
		kept = append(kept, k)
	}
	ks.Keys = kept
}

// decode parses every key and checks the set is complete.
func (ks *KeySet) decode() error {
	for i := range ks.Keys {
		k := &ks.Keys[i]
		priv, err := x509.ParsePKCS8PrivateKey(k.PKCS8)
		if err != nil {
			return fmt.Errorf("oidcfed: key %s: %w", k.ID, err)
		}
		rk, ok := priv.(*rsa.PrivateKey)
		if !ok || rk.N.BitLen() < 2048 {
			return fmt.Errorf("oidcfed: key %s: want an RSA key of at least 2048 bits", k.ID)
		}
		if kid, _ := thumbprint(rk.Public()); kid != k.ID {
			return fmt.Errorf("oidcfed: key %s: kid is not the key's thumbprint", k.ID)
		}
		k.key = rk
	}
	for _, use := range keyUses {
		if ks.find(use, KeyActive) < 0 {
			return fmt.Errorf("%w: no active %s key", ErrNoKeys, use)
		}
	}
	return nil
}

// Active is the active key of use.
func (ks *KeySet) Active(use string) *KeyRecord {
	if i := ks.find(use, KeyActive); i >= 0 {
		return &ks.Keys[i]
	}
	return nil
}

// Public is the JWKS of use: the active key first, then next, then retired.
func (ks *KeySet) Public(use string) *jose.JSONWebKeySet {
	set := &jose.JSONWebKeySet{}
	for _, state := range []string{KeyActive, KeyNext, KeyRetired} {
		for _, k := range ks.Keys {
			if k.Use != use || k.State != state || k.key == nil {
				continue
			}
			jwk := jose.JSONWebKey{Key: k.key.Public(), KeyID: k.ID, Use: "sig", Algorithm: string(jose.RS256)}
			if use == UseEncryption {
				jwk.Use, jwk.Algorithm = "enc", string(jose.RSA_OAEP_256)
			}
			set.Keys = append(set.Keys, jwk)
		}
	}
	return set
}

// decrypter is the private key of an encryption key by kid (any state: a JWE made for a key
// just retired still opens).
func (ks *KeySet) decrypter(kid string) crypto.Decrypter {
	for _, k := range ks.Keys {
		if k.Use == UseEncryption && k.ID == kid {
			if d, ok := k.key.(crypto.Decrypter); ok {
				return d
			}
		}
	}
	return nil
}

// signer signs with the active key of use, with header typ (empty: none).
func (ks *KeySet) signer(use, typ string) (jose.Signer, error) {
	k := ks.Active(use)
	if k == nil {
		return nil, fmt.Errorf("%w: no active %s key", ErrNoKeys, use)
	}
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	return jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.key, KeyID: k.ID}}, opts)
}

// FileKeySource keeps the key set in one file (mode 0600) in Dir. With Generate (dev mode, or
// `sportello federation keys init`) a missing or incomplete set is created and written back;
// without it a missing set is ErrNoKeys.
type FileKeySource struct {
	Dir      string
	Generate bool
	// Bits is the RSA key size of generated keys (default 3072; the profile allows 2048).
	Bits int
	// Now and Rand default to the clock and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}

// KeyFile is the name of the key set's file in the key directory.
const KeyFile = "oidcfed-keys.json"

// Load reads the set, creating or completing it when Generate is set.
func (f *FileKeySource) Load(_ context.Context) (*KeySet, error) {
	path := filepath.Join(f.Dir, KeyFile)
	ks := &KeySet{}
	data, err := os.ReadFile(path) // #nosec G304 -- the configured key directory
	switch {
	case errors.Is(err, fs.ErrNotExist) && f.Generate:
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: %s does not exist (create it with sportello federation keys init)", ErrNoKeys, path)
	case err != nil:
		return nil, fmt.Errorf("oidcfed: keys: %w", err)
	default:
		if err := json.Unmarshal(data, ks); err != nil {
			return nil, fmt.Errorf("oidcfed: keys: %s: %w", path, err)
		}
	}
	if f.Generate {
		now, random, bits := time.Now, io.Reader(rand.Reader), f.Bits
		if f.Now != nil {
			now = f.Now
		}
		if f.Rand != nil {
			random = f.Rand
		}
		if bits == 0 {
			bits = 3072
		}
		changed, err := ks.EnsureComplete(bits, now(), random)
		if err != nil {
			return nil, err
		}
		if changed {
			if err := f.write(path, ks); err != nil {
				return nil, err
			}
		}
	}
	if err := ks.decode(); err != nil {
		return nil, err
	}
	return ks, nil
}

func (f *FileKeySource) write(path string, ks *KeySet) error {
	data, err := json.MarshalIndent(ks, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("oidcfed: keys: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("oidcfed: keys: %w", err)
	}
	return os.Rename(tmp, path)
}

// StaticKeys is a KeySource of a set already in memory (tests, the dev federation).
type StaticKeys struct{ Set *KeySet }

// Load implements KeySource.
func (s StaticKeys) Load(context.Context) (*KeySet, error) {
	if err := s.Set.decode(); err != nil {
		return nil, err
	}
	return s.Set, nil
}

// InitKeys creates the key set in dir; an existing set is an error.
func InitKeys(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, KeyFile)); err == nil {
		return fmt.Errorf("oidcfed: %s already exists (rotate it instead)", filepath.Join(dir, KeyFile))
	}
	_, err := (&FileKeySource{Dir: dir, Generate: true}).Load(context.Background())
	return err
}

// RotateKeys rotates every use of the set in dir and drops retired keys past grace.
func RotateKeys(dir string, grace time.Duration, now time.Time) error {
	f := &FileKeySource{Dir: dir}
	ks, err := f.Load(context.Background())
	if err != nil {
		return err
	}
	for _, use := range keyUses {
		if err := ks.Rotate(use, 3072, now, rand.Reader); err != nil {
			return err
		}
	}
	ks.Prune(now, grace)
	if err := ks.decode(); err != nil {
		return err
	}
	return f.write(filepath.Join(dir, KeyFile), ks)
}

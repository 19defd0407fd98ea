package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/internal/store/seal"
)

// Key states in a Set.
const (
	Active  = "active"
	Next    = "next"
	Retired = "retired"
)

// Supported signing algorithms.
var Algorithms = []jose.SignatureAlgorithm{jose.ES256, jose.RS256}

// Record is one signing key of the key set.
type Record struct {
	ID        string                  `json:"kid"`
	Alg       jose.SignatureAlgorithm `json:"alg"`
	State     string                  `json:"state"`
	Created   time.Time               `json:"created"`
	RetiredAt time.Time               `json:"retired_at,omitempty"`
	// PKCS8 is the DER private key. In the Store it is sealed (AES-GCM with the crypto key).
	PKCS8 []byte `json:"pkcs8"`
}

// Set is the whole set of signing keys: per algorithm one active, one next and any retired
// keys still needed to verify tokens they signed.
type Set struct {
	Version int      `json:"version"`
	Keys    []Record `json:"keys"`
}

// StoreKey is the Store key of the sealed key set.
const StoreKey = "keys:set"

// GenerateKey makes a new private key for alg.
func GenerateKey(alg jose.SignatureAlgorithm, random io.Reader) (crypto.Signer, error) {
	switch alg {
	case jose.ES256:
		return ecdsa.GenerateKey(elliptic.P256(), random)
	case jose.RS256:
		return rsa.GenerateKey(random, 3072)
	}
	return nil, fmt.Errorf("keys: unsupported algorithm %q", alg)
}

func newKeyRecord(alg jose.SignatureAlgorithm, state string, now time.Time, random io.Reader) (Record, error) {
	k, err := GenerateKey(alg, random)
	if err != nil {
		return Record{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return Record{}, err
	}
	return Record{ID: thumbprintID(k.Public()), Alg: alg, State: state, Created: now, PKCS8: der}, nil
}

// thumbprintID derives a key id from the RFC 7638 thumbprint of the public key.
func thumbprintID(pub crypto.PublicKey) string {
	jwk := jose.JSONWebKey{Key: pub}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		sum := sha256.Sum256([]byte(fmt.Sprint(pub)))
		tp = sum[:]
	}
	return base64.RawURLEncoding.EncodeToString(tp[:12])
}

// EnsureComplete adds any missing active/next key per supported algorithm.
func (ks *Set) EnsureComplete(now time.Time, random io.Reader) (bool, error) {
	changed := false
	for _, alg := range Algorithms {
		for _, state := range []string{Active, Next} {
			if ks.find(alg, state) >= 0 {
				continue
			}
			rec, err := newKeyRecord(alg, state, now, random)
			if err != nil {
				return changed, err
			}
			ks.Keys = append(ks.Keys, rec)
			changed = true
		}
	}
	if changed {
		ks.Version++
	}
	return changed, nil
}

func (ks *Set) find(alg jose.SignatureAlgorithm, state string) int {
	for i, k := range ks.Keys {
		if k.Alg == alg && k.State == state {
			return i
		}
	}
	return -1
}

// Rotate promotes next→active and active→retired for every algorithm, generates a new next key,
// and drops retired keys older than grace.
func (ks *Set) Rotate(now time.Time, grace time.Duration, random io.Reader) error {
	for _, alg := range Algorithms {
		if a := ks.find(alg, Active); a >= 0 {
			ks.Keys[a].State = Retired
			ks.Keys[a].RetiredAt = now
		}
		if n := ks.find(alg, Next); n >= 0 {
			ks.Keys[n].State = Active
		}
		rec, err := newKeyRecord(alg, Next, now, random)
		if err != nil {
			return err
		}
		ks.Keys = append(ks.Keys, rec)
	}
	ks.Prune(now, grace)
	ks.Version++
	return nil
}

// Prune drops retired keys retired longer than grace ago: every token they signed has expired.
func (ks *Set) Prune(now time.Time, grace time.Duration) {
	kept := ks.Keys[:0]
	for _, k := range ks.Keys {
		if k.State == Retired && now.Sub(k.RetiredAt) > grace {
			continue
		}
		kept = append(kept, k)
	}
	ks.Keys = kept
}

// Source loads and rotates the key set.
type Source interface {
	Load(ctx context.Context) (*Set, error)
	Rotate(ctx context.Context, now time.Time, grace time.Duration) (*Set, error)
}

// FileSource keeps the key set as PEM files in a directory: <alg>-active.pem,
// <alg>-next.pem and <alg>-retired-<unix>.pem (lower-case alg). It is the whole source for
// single-process (memory store) deployments, dev mode's bootstrap of the store-backed source,
// and what `sportello keys init` imports into the store.
type FileSource struct {
	Dir string
	// Generate creates missing keys at Load (dev mode only: elsewhere `sportello keys init`
	// does, as an operator's action).
	Generate bool
	Random   io.Reader
	// Logger, when set, is told about every key Load generates.
	Logger *slog.Logger
}

// Load reads the directory; with Generate it creates and persists missing keys. A directory
// without an active key per algorithm is ErrNoKeySet.
func (f *FileSource) Load(ctx context.Context) (*Set, error) {
	ks, err := f.read()
	if err != nil {
		return nil, err
	}
	if f.Generate {
		before := ids(ks)
		changed, err := ks.EnsureComplete(time.Now(), f.rand())
		if err != nil {
			return nil, err
		}
		if changed {
			if err := f.write(ks); err != nil {
				return nil, err
			}
			if f.Logger != nil {
				f.Logger.Warn("signing keys generated (dev mode)", "dir", f.Dir, "kids", newIDs(ks, before))
			}
		}
	}
	return ks, ks.usable(f.Dir)
}

// Read returns the key files as they are: nothing generated, nothing required.
func (f *FileSource) Read(ctx context.Context) (*Set, error) { return f.read() }

// Rotate rotates the files; it needs a key set to rotate (ErrNoKeySet otherwise).
func (f *FileSource) Rotate(ctx context.Context, now time.Time, grace time.Duration) (*Set, error) {
	ks, err := f.read()
	if err != nil {
		return nil, err
	}
	if err := ks.usable(f.Dir); err != nil {
		return nil, err
	}
	if _, err := ks.EnsureComplete(now, f.rand()); err != nil {
		return nil, err
	}
	if err := ks.Rotate(now, grace, f.rand()); err != nil {
		return nil, err
	}
	return ks, f.write(ks)
}

func (f *FileSource) rand() io.Reader {
	if f.Random != nil {
		return f.Random
	}
	return rand.Reader
}

func (f *FileSource) read() (*Set, error) {
	ks := &Set{}
	entries, err := os.ReadDir(f.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return ks, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	var latest time.Time
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".pem") {
			continue
		}
		parts := strings.SplitN(strings.TrimSuffix(name, ".pem"), "-", 3)
		if len(parts) < 2 {
			continue
		}
		alg := jose.SignatureAlgorithm(strings.ToUpper(parts[0]))
		if alg != jose.ES256 && alg != jose.RS256 {
			continue
		}
		state := parts[1]
		if state != Active && state != Next && state != Retired {
			continue
		}
		path := filepath.Join(f.Dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		signer, der, err := parsePrivateKeyPEM(data)
		if err != nil {
			return nil, fmt.Errorf("keys: %s: %w", path, err)
		}
		if err := checkAlg(alg, signer); err != nil {
			return nil, fmt.Errorf("keys: %s: %w", path, err)
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		if info.ModTime().After(latest) {
			latest = info.ModTime()
		}
		rec := Record{ID: thumbprintID(signer.Public()), Alg: alg, State: state, Created: info.ModTime(), PKCS8: der}
		if state == Retired {
			rec.RetiredAt = info.ModTime()
			if len(parts) == 3 {
				var unix int64
				if _, err := fmt.Sscanf(parts[2], "%d", &unix); err == nil {
					rec.RetiredAt = time.Unix(unix, 0)
				}
			}
		}
		ks.Keys = append(ks.Keys, rec)
	}
	sort.Slice(ks.Keys, func(i, j int) bool { return ks.Keys[i].ID < ks.Keys[j].ID })
	ks.Version = int(latest.UnixNano() % (1 << 62))
	return ks, nil
}

func (f *FileSource) write(ks *Set) error {
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	want := map[string]bool{}
	for _, k := range ks.Keys {
		name := strings.ToLower(string(k.Alg)) + "-" + k.State
		if k.State == Retired {
			name += fmt.Sprintf("-%d", k.RetiredAt.Unix())
		}
		name += ".pem"
		want[name] = true
		data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k.PKCS8})
		tmp := filepath.Join(f.Dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			return fmt.Errorf("keys: %w", err)
		}
		if err := os.Rename(tmp, filepath.Join(f.Dir, name)); err != nil {
			return fmt.Errorf("keys: %w", err)
		}
	}
	entries, _ := os.ReadDir(f.Dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".pem") && !want[e.Name()] {
			_ = os.Remove(filepath.Join(f.Dir, e.Name()))
		}
	}
	return nil
}

func parsePrivateKeyPEM(data []byte) (crypto.Signer, []byte, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, nil, errors.New("no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, nil, fmt.Errorf("unexpected PEM type %q", block.Type)
	}
	if err != nil {
		return nil, nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("not a signing key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return nil, nil, err
	}
	return signer, der, nil
}

func checkAlg(alg jose.SignatureAlgorithm, k crypto.Signer) error {
	switch pub := k.Public().(type) {
	case *ecdsa.PublicKey:
		if alg == jose.ES256 && pub.Curve == elliptic.P256() {
			return nil
		}
	case *rsa.PublicKey:
		if alg == jose.RS256 && pub.N.BitLen() >= 2048 {
			return nil
		}
	}
	return fmt.Errorf("key does not fit %s", alg)
}

// StoreSource keeps the key set in the Store, sealed with the shared crypto key, so every
// replica signs with the same keys and a rotation reaches all of them. The key set is created
// once by the operator (`sportello keys init`, Init); in dev mode an empty store is
// bootstrapped from Bootstrap (generated PEM files) by whichever replica starts first.
type StoreSource struct {
	Store     store.Store
	CryptoKey []byte
	// Bootstrap, when set, gives the key set of an empty store at Load; without it an empty
	// store is ErrNoKeySet.
	Bootstrap Source
	Random    io.Reader
}

// Load returns the key set from the store, bootstrapping it when absent and Bootstrap is set.
func (s *StoreSource) Load(ctx context.Context) (*Set, error) {
	raw, err := s.Store.Get(ctx, StoreKey)
	if errors.Is(err, store.ErrNotFound) {
		if s.Bootstrap == nil {
			return nil, fmt.Errorf("%w in the store", ErrNoKeySet)
		}
		ks, err := s.Bootstrap.Load(ctx)
		if err != nil {
			return nil, err
		}
		if err := ks.usable("the bootstrap key set"); err != nil {
			return nil, err
		}
		sealed, err := s.seal(ks)
		if err != nil {
			return nil, err
		}
		_, perr := s.Store.PutIfAbsent(ctx, StoreKey, sealed, 0)
		// A failed write may be applied all the same (a durable write the replicas did not
		// acknowledge in time, a reply lost): whatever key set the store holds now is the one.
		raw, err = s.Store.Get(ctx, StoreKey)
		if err != nil {
			if perr != nil {
				err = perr
			}
			return nil, fmt.Errorf("keys: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return s.open(raw)
}

// Rotate rotates the key set in the store with compare-and-swap.
func (s *StoreSource) Rotate(ctx context.Context, now time.Time, grace time.Duration) (*Set, error) {
	if _, err := s.Load(ctx); err != nil {
		return nil, err
	}
	var out *Set
	_, err := store.Update(ctx, s.Store, StoreKey, 0, func(old []byte) ([]byte, error) {
		ks, err := s.open(old)
		if err != nil {
			return nil, err
		}
		// A next key is what the rotation promotes: a set imported without one gets it first.
		if _, err := ks.EnsureComplete(now, s.rand()); err != nil {
			return nil, err
		}
		if err := ks.Rotate(now, grace, s.rand()); err != nil {
			return nil, err
		}
		out = ks
		return s.seal(ks)
	})
	return out, err
}

func (s *StoreSource) rand() io.Reader {
	if s.Random != nil {
		return s.Random
	}
	return rand.Reader
}

func (s *StoreSource) seal(ks *Set) ([]byte, error) {
	plain, err := json.Marshal(ks)
	if err != nil {
		return nil, err
	}
	sealed, err := seal.Seal(s.CryptoKey, StoreKey, plain, s.rand())
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return sealed, nil
}

func (s *StoreSource) open(sealed []byte) (*Set, error) {
	plain, err := seal.Open(s.CryptoKey, StoreKey, sealed)
	if err != nil {
		return nil, fmt.Errorf("keys: cannot open the key set (is the crypto key the same on every replica?): %w", err)
	}
	ks := &Set{}
	if err := json.Unmarshal(plain, ks); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return ks, nil
}

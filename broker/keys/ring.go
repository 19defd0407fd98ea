package keys

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// keyring is the immutable runtime form of a Set: ready signers per algorithm and token
// type, the JWKS document pre-serialised, and the public keys by id for verification.
type keyring struct {
	fingerprint string
	// signers[alg][typ] signs with the active key of alg, with header typ ("JWT" or "at+jwt").
	signers map[jose.SignatureAlgorithm]map[string]jose.Signer
	public  map[string]jose.JSONWebKey
	jwks    []byte
}

// The JWT typ headers the ring signs with.
const (
	TypIDToken     = "JWT"    // ID tokens
	TypAccessToken = "at+jwt" // access tokens (RFC 9068)
	// TypLogoutToken is the typ of back-channel logout tokens (OpenID Connect Back-Channel
	// Logout 1.0 §2.4: explicit typing keeps them from passing for ID tokens).
	TypLogoutToken = "logout+jwt"
)

func fingerprint(ks *Set) string {
	parts := make([]string, 0, len(ks.Keys))
	for _, k := range ks.Keys {
		parts = append(parts, k.ID+"/"+k.State)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func newKeyring(ks *Set) (*keyring, error) {
	kr := &keyring{
		fingerprint: fingerprint(ks),
		signers:     map[jose.SignatureAlgorithm]map[string]jose.Signer{},
		public:      map[string]jose.JSONWebKey{},
	}
	var set jose.JSONWebKeySet
	for _, rec := range ks.Keys {
		key, err := x509.ParsePKCS8PrivateKey(rec.PKCS8)
		if err != nil {
			return nil, fmt.Errorf("keys: %s: %w", rec.ID, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("keys: %s: not a signing key", rec.ID)
		}
		pub := jose.JSONWebKey{Key: signer.Public(), KeyID: rec.ID, Algorithm: string(rec.Alg), Use: "sig"}
		kr.public[rec.ID] = pub
		set.Keys = append(set.Keys, pub)
		if rec.State != Active {
			continue
		}
		kr.signers[rec.Alg] = map[string]jose.Signer{}
		for _, typ := range []string{TypIDToken, TypAccessToken, TypLogoutToken} {
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: rec.Alg, Key: jose.JSONWebKey{Key: signer, KeyID: rec.ID}},
				(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
			if err != nil {
				return nil, fmt.Errorf("keys: %s: %w", rec.ID, err)
			}
			kr.signers[rec.Alg][typ] = s
		}
	}
	for _, alg := range Algorithms {
		if kr.signers[alg] == nil {
			return nil, fmt.Errorf("%w: no active %s key", ErrNoKeySet, alg)
		}
	}
	// Active keys first, then next, then retired: clients that pick the first key still work.
	rank := map[string]int{}
	for _, rec := range ks.Keys {
		rank[rec.ID] = map[string]int{Active: 0, Next: 1, Retired: 2}[rec.State]
	}
	sort.SliceStable(set.Keys, func(i, j int) bool { return rank[set.Keys[i].KeyID] < rank[set.Keys[j].KeyID] })
	b, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	kr.jwks = b
	return kr, nil
}

// Ring holds the current keyring and reloads it from its Source. It signs with the active
// keys and verifies with every published one (active, next and retired within the grace).
// Set the fields before the first Reload; Now and Grace may change between reloads (tests).
type Ring struct {
	// Source is where the key set is loaded (and rotated) from.
	Source Source
	// Grace is how long a retired key is kept for verification after its retirement.
	Grace time.Duration
	// Now is the clock of pruning (default time.Now).
	Now func() time.Time
	// Log receives the outcome of the periodic reloads (default: discarded).
	Log *slog.Logger
	// Changed, when set, is told the active key ids each time a reload replaces the key set
	// (not at the first load): the broker audits it.
	Changed func(active []string)
	cur     atomic.Pointer[keyring]
}

// Reload re-reads the key set; it reports whether the key set changed. On an error the
// current keys stay in use.
func (m *Ring) Reload(ctx context.Context) (bool, error) {
	ks, err := m.Source.Load(ctx)
	if err != nil {
		return false, err
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	ks.Prune(now(), m.Grace)
	if old := m.cur.Load(); old != nil && old.fingerprint == fingerprint(ks) {
		return false, nil
	}
	kr, err := newKeyring(ks)
	if err != nil {
		return false, err
	}
	first := m.cur.Swap(kr) == nil
	if !first && m.Changed != nil {
		var active []string
		for _, k := range ks.Keys {
			if k.State == Active {
				active = append(active, k.ID)
			}
		}
		sort.Strings(active)
		m.Changed(active)
	}
	return true, nil
}

// Watch reloads the key set every interval until ctx ends, so a rotation done by
// `sportello keys rotate` (or by another replica) is picked up without a restart.
func (m *Ring) Watch(ctx context.Context, interval time.Duration) {
	log := m.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			changed, err := m.Reload(ctx)
			if err != nil {
				log.Warn("key set reload failed; keeping the current keys", "error", err)
			} else if changed {
				log.Info("signing keys reloaded")
			}
		}
	}
}

// JWKS is the published key set, pre-serialised: active keys first, then next, then retired.
func (m *Ring) JWKS() []byte { return m.cur.Load().jwks }

// ErrNoSigner: no active key of the algorithm signs tokens of that type.
var ErrNoSigner = errors.New("keys: no signer")

// Sign signs payload with the active key of alg, with header typ (TypIDToken,
// TypAccessToken or TypLogoutToken), and returns the compact serialisation.
func (m *Ring) Sign(alg jose.SignatureAlgorithm, typ string, payload []byte) (string, error) {
	signer := m.cur.Load().signers[alg][typ]
	if signer == nil {
		return "", fmt.Errorf("%w for %s/%s", ErrNoSigner, alg, typ)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// ErrInvalid covers every reason a presented token's signature is not acceptable.
var ErrInvalid = errors.New("invalid token")

// Verify checks a compact JWS: one signature, header typ wantTyp (case-insensitive), by a
// published key of this ring with the algorithm it was published for. It returns the
// verified payload; the claims (issuer, expiry) are the caller's to check.
func (m *Ring) Verify(tok, wantTyp string) ([]byte, error) {
	jws, err := jose.ParseSigned(tok, Algorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, ErrInvalid
	}
	h := jws.Signatures[0].Header
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, wantTyp) {
		return nil, fmt.Errorf("%w: typ %q", ErrInvalid, typ)
	}
	key, ok := m.cur.Load().public[h.KeyID]
	if !ok || key.Algorithm != h.Algorithm {
		return nil, fmt.Errorf("%w: unknown key", ErrInvalid)
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, fmt.Errorf("%w: signature", ErrInvalid)
	}
	return payload, nil
}

package broker

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// keyring is the immutable runtime form of a KeySet: ready signers per algorithm and token
// type, the JWKS document pre-serialised, and the public keys by id for verification.
type keyring struct {
	fingerprint string
	// signers[alg][typ] signs with the active key of alg, with header typ ("JWT" or "at+jwt").
	signers map[jose.SignatureAlgorithm]map[string]jose.Signer
	public  map[string]jose.JSONWebKey
	jwks    []byte
}

const (
	typIDToken     = "JWT"
	typAccessToken = "at+jwt"
)

func fingerprint(ks *KeySet) string {
	parts := make([]string, 0, len(ks.Keys))
	for _, k := range ks.Keys {
		parts = append(parts, k.ID+"/"+k.State)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func newKeyring(ks *KeySet) (*keyring, error) {
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
		if rec.State != KeyActive {
			continue
		}
		kr.signers[rec.Alg] = map[string]jose.Signer{}
		for _, typ := range []string{typIDToken, typAccessToken} {
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: rec.Alg, Key: jose.JSONWebKey{Key: signer, KeyID: rec.ID}},
				(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
			if err != nil {
				return nil, fmt.Errorf("keys: %s: %w", rec.ID, err)
			}
			kr.signers[rec.Alg][typ] = s
		}
	}
	for _, alg := range supportedAlgs {
		if kr.signers[alg] == nil {
			return nil, fmt.Errorf("%w: no active %s key", ErrNoKeySet, alg)
		}
	}
	// Active keys first, then next, then retired: clients that pick the first key still work.
	rank := map[string]int{}
	for _, rec := range ks.Keys {
		rank[rec.ID] = map[string]int{KeyActive: 0, KeyNext: 1, KeyRetired: 2}[rec.State]
	}
	sort.SliceStable(set.Keys, func(i, j int) bool { return rank[set.Keys[i].KeyID] < rank[set.Keys[j].KeyID] })
	b, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	kr.jwks = b
	return kr, nil
}

// keyManager holds the current keyring and reloads it from the KeySource.
type keyManager struct {
	source KeySource
	grace  time.Duration
	now    func() time.Time
	log    *slog.Logger
	cur    atomic.Pointer[keyring]
	// changed, when set, is told the active key ids each time a reload replaces the key set
	// (not at the first load): the broker audits it.
	changed func(active []string)
}

func (m *keyManager) reload(ctx context.Context) (bool, error) {
	ks, err := m.source.Load(ctx)
	if err != nil {
		return false, err
	}
	ks.Prune(m.now(), m.grace)
	if old := m.cur.Load(); old != nil && old.fingerprint == fingerprint(ks) {
		return false, nil
	}
	kr, err := newKeyring(ks)
	if err != nil {
		return false, err
	}
	first := m.cur.Swap(kr) == nil
	if !first && m.changed != nil {
		var active []string
		for _, k := range ks.Keys {
			if k.State == KeyActive {
				active = append(active, k.ID)
			}
		}
		sort.Strings(active)
		m.changed(active)
	}
	return true, nil
}

// watch reloads the key set every interval until ctx ends, so a rotation done by
// `sportello keys rotate` (or by another replica) is picked up without a restart.
func (m *keyManager) watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			changed, err := m.reload(ctx)
			if err != nil {
				m.log.Warn("key set reload failed; keeping the current keys", "error", err)
			} else if changed {
				m.log.Info("signing keys reloaded")
			}
		}
	}
}

func (m *keyManager) ring() *keyring { return m.cur.Load() }
